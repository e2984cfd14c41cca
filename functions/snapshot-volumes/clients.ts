/** AWS clients of the snapshot and backup jobs: the shared ones, plus EC2 in copy regions. */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { awsClient, clientConfig } from '#shared/aws.ts';

const copyRegionClients = new Map<string, EC2Client>();

/** The EC2 client of the function's region (AWS_ENDPOINT_URL_EC2 is honoured by the SDK itself). */
export function ec2Client(region: string): EC2Client {
  return awsClient(EC2Client, { region });
}

/** An EC2 client of another region (cross-region copies), one per region per cold start. */
export function ec2ClientIn(region: string): EC2Client {
  const client = copyRegionClients.get(region) ?? new EC2Client({ ...clientConfig(), region });
  copyRegionClients.set(region, client);
  return client;
}

/** The SSM client of the function's region. */
export function ssmClient(region: string): SSMClient {
  return awsClient(SSMClient, { region });
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
