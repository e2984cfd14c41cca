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
