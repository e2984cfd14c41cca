/**
 * The whole Lambda path: middy handler → embedded config → DQS key from SSM (mocked: SSM has no
 * local server) → DNS against the sandbox server → runner → alert state and kept listings in
 * dynalite → SNS Publish (mocked). The key must appear in the query names and nowhere else.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDnsServer, startDnsServer } from '#sandbox/dns-server.ts';
import { resetAwsClients } from '#shared/aws.ts';
import { DynamoStateStore } from '#shared/state/dynamo.ts';
import { type RunningDynalite, startDynalite } from '../support/dynalite.ts';
import { lambdaContext } from '../support/lambda.ts';
import { listing, testPoint } from './records.ts';

const KEY = 'e2edqskeye2edqskeye2edqs42';
const sns = mockClient(SNSClient);
const ssm = mockClient(SSMClient);
const topic = 'arn:aws:sns:eu-west-1:123456789012:watchkeeper-test-alerts';
let dynamo: RunningDynalite;
let dns: RunningDnsServer;

beforeAll(async () => {
  const zen = `${KEY}.zen.dq.spamhaus.net`;
  dns = await startDnsServer({
    records: [
      ...testPoint(zen),
      ...listing(zen, '192.0.2.10', ['127.0.0.2'], `SBL listed, see https://check.spamhaus.org/ (${KEY})`),
      ...testPoint('bl.spamcop.net'),
    ],
  });
  dynamo = await startDynalite();
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    WATCHKEEPER_TOPIC_ARN: topic,
    WATCHKEEPER_STATE_TABLE: dynamo.table,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    WATCHKEEPER_EMBEDDED_CONFIG: JSON.stringify({
      region: 'eu-west-1',
      blocklists: {
        resolver: dns.address,
        addresses: ['192.0.2.10', '192.0.2.14'],
        zones: ['spamhaus-zen', 'spamcop'],
        dqsKey: 'ssm:/watchkeeper/dqs-key',
      },
    }),
  });
  resetAwsClients();
  sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/watchkeeper/dqs-key', Value: KEY } });
});

afterAll(async () => {
  for (const name of ['AWS_ENDPOINT_URL_DYNAMODB', 'WATCHKEEPER_EMBEDDED_CONFIG']) delete process.env[name];
  resetAwsClients();
  sns.reset();
  ssm.reset();
  await Promise.all([dynamo.close(), dns.close()]);
});

describe('check-blocklists handler, end to end', () => {
  it('reads the DQS key from SSM, queries through DQS and publishes without the key', async () => {
    const { handler } = await import('#functions/check-blocklists/handler.ts');
    const result = await handler({}, lambdaContext('check-blocklists', 'req-1'));
    expect(result).toMatchObject({ job: 'check-blocklists', status: 'critical', published: true });

    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({
      Name: '/watchkeeper/dqs-key',
      WithDecryption: true,
    });
    expect(dns.queries.some((query) => query.name === `10.2.0.192.${KEY}.zen.dq.spamhaus.net`)).toBe(true);

    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.Subject).toMatch(/^\[CRITICAL\] check-blocklists: 192\.0\.2\.10/);
    const body = JSON.parse(input?.Message ?? '{}') as { default: string; email: string };
    expect(body.email).toContain('192.0.2.10 is listed on Spamhaus ZEN ([redacted].zen.dq.spamhaus.net)');
    expect(JSON.stringify(input).toLowerCase()).not.toContain(KEY);

    // The confirmed listing is kept for runs that cannot see it, without the key.
    const kept = await new DynamoStateStore(dynamo.table).get('listings#check-blocklists', 'spamhaus-zen');
    expect(JSON.stringify(kept)).toContain('192.0.2.10');
    expect(JSON.stringify(kept).toLowerCase()).not.toContain(KEY);
  });
});
