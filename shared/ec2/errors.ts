/** Error kinds of the snapshot job, with the input they concern. */

/** An SSM command could not be sent (`sent: false`: it cannot have run) or observed. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly sent: boolean;
  constructor(message: string, options: { cause?: unknown; sent: boolean }) {
    super(message, options);
    this.sent = options.sent;
  }
}

/** Name of an SDK error, whatever its shape. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** Message of an SDK error, whatever its shape. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether the error is AWS throttling (the SDK's retries were not enough). */
export function isThrottling(error: unknown): boolean {
  return /Throttl|RequestLimitExceeded|TooManyRequests|RateExceeded/.test(errorName(error));
}

/** The region to work in, or a clear error when none is configured. */
export function requireRegion(
  job: string,
  runtimeRegion: string | undefined,
  configured: string | undefined,
): string {
  const region = runtimeRegion ?? configured;
  if (region === undefined) {
    throw new Error(`${job} needs an AWS region: set AWS_REGION or "region" in watchkeeper.yml`);
  }
  return region;
}

/** Rewords the SDK's "no credentials" failure so a CLI user knows what to do. */
export function explainAwsError(action: string, error: unknown): Error {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    return new Error(
      `${action} needs AWS credentials and none were found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): ${message}`,
      { cause: error },
    );
  }
  return new Error(`${action} failed: ${message}`, { cause: error });
}
