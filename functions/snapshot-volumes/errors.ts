/** Error kinds of the snapshot job, with the input they concern. */

/** An SSM command could not be sent or observed. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
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
