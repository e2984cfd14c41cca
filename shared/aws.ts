/**
 * AWS clients: one per service per cold start, region from the environment, and the SDK's own
 * endpoint overrides (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`) honoured by the SDK itself.
 */

type ClientConstructor<T> = new (config: Record<string, unknown>) => T;

const clients = new Map<ClientConstructor<unknown>, unknown>();

/** The shared client of a service, created on first use. */
export function awsClient<T>(ctor: ClientConstructor<T>, extra: Record<string, unknown> = {}): T {
  let client = clients.get(ctor) as T | undefined;
  if (!client) {
    client = new ctor({ ...clientConfig(), ...extra });
    clients.set(ctor, client);
  }
  return client;
}

/** Forgets cached clients (tests that change the environment between cases). */
export function resetAwsClients(): void {
  clients.clear();
}

/** Common client settings: region from the environment, retries with the SDK's adaptive mode. */
export function clientConfig(): Record<string, unknown> {
  const config: Record<string, unknown> = { maxAttempts: 5, retryMode: 'adaptive' };
  const region = process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
  if (region) config['region'] = region;
  return config;
}

/** Whether an S3 endpoint override is set (then path-style addressing is needed). */
export function s3EndpointOverridden(): boolean {
  return Boolean(process.env['AWS_ENDPOINT_URL_S3'] || process.env['AWS_ENDPOINT_URL']);
}
