/** The job's one S3 client per cold start (handler, batch handler and CLI runs share it). */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';

let client: S3Client | undefined;

/** Whether an endpoint override (s3rver, MinIO, a proxy) is set, which needs path-style addressing. */
export function endpointOverridden(env: NodeJS.ProcessEnv = process.env): boolean {
  const { AWS_ENDPOINT_URL_S3: s3Endpoint, AWS_ENDPOINT_URL: endpoint } = env;
  return Boolean(s3Endpoint || endpoint);
}

/**
 * Builds an S3 client sized for `maxSockets` requests in flight. Adaptive retries back off on
 * 503 SlowDown and rate-limit the client itself, which is what S3 asks of bulk HEAD/COPY callers.
 */
export function createS3Client(maxSockets = 256): S3Client {
  const agentOptions = { keepAlive: true, maxSockets };
  return new S3Client({
    forcePathStyle: endpointOverridden(),
    retryMode: 'adaptive',
    maxAttempts: 5,
    requestHandler: {
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
    },
  });
}

/** The shared client, created on first use (after the environment is set). */
export function s3Client(): S3Client {
  client ??= createS3Client();
  return client;
}
