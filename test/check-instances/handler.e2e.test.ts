/**
 * The whole Lambda path: middy handler → embedded config → real EC2 SDK against a loopback EC2
 * endpoint → runner → alert state in dynalite → SNS Publish (mocked: SNS has no local server).
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetAwsClients } from '#shared/aws.ts';
import { type RunningDynalite, startDynalite } from '../support/dynalite.ts';
import { type Ec2Endpoint, startEc2Endpoint } from '../support/ec2-endpoint.ts';
import { lambdaContext, scheduledEvent } from '../support/lambda.ts';

const sns = mockClient(SNSClient);
const topic = 'arn:aws:sns:eu-west-1:123456789012:watchkeeper-test-alerts';
let dynamo: RunningDynalite;
let ec2: Ec2Endpoint;

beforeAll(async () => {
  dynamo = await startDynalite();
  const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
  ec2 = await startEc2Endpoint(
    [
      {
        id: 'i-0aaaaaaaaaaaaaaa1',
        name: 'web-1',
        state: 'running',
        events: [{ code: 'instance-retirement', description: 'degraded hardware', notBefore: soon }],
      },
      { id: 'i-0aaaaaaaaaaaaaaa2', name: 'db-1', state: 'running', systemStatus: 'impaired' },
      {
        id: 'i-0aaaaaaaaaaaaaaa3',
        name: 'worker',
        state: 'stopped',
        systemStatus: 'not-applicable',
        instanceStatus: 'not-applicable',
      },
    ],
    1,
  );
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_EC2: ec2.url,
    WATCHKEEPER_TOPIC_ARN: topic,
    WATCHKEEPER_STATE_TABLE: dynamo.table,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    WATCHKEEPER_EMBEDDED_CONFIG: JSON.stringify({
      region: 'eu-west-1',
      instances: { criticalWithinDays: 14 },
    }),
  });
  resetAwsClients();
});

afterAll(async () => {
  for (const name of ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_EC2', 'WATCHKEEPER_EMBEDDED_CONFIG'])
    delete process.env[name];
  resetAwsClients();
  await Promise.all([dynamo.close(), ec2.close()]);
});

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
});

describe('check-instances handler, end to end', () => {
  it('publishes one SNS message with subject, attributes, digest and report, then stays quiet on the next run', async () => {
    const { handler } = await import('#functions/check-instances/handler.ts');
    const result = await handler(scheduledEvent('evt-1'), lambdaContext('check-instances', 'req-1'));
    expect(result).toEqual({
      job: 'check-instances',
      runId: 'evt-1',
      status: 'critical',
      findings: 3,
      published: true,
    });
    // The first EC2 request was throttled and the SDK retried it.
    expect(ec2.calls.slice(0, 2)).toEqual(['DescribeInstances', 'DescribeInstances']);

    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.TopicArn).toBe(topic);
    expect(input?.MessageStructure).toBe('json');
    expect(input?.Subject).toMatch(/^\[CRITICAL\] check-instances: i-0aaaaaaaaaaaaaaa[12]: .+ \(\+1 more\)$/);
    expect((input?.Subject ?? '').length).toBeLessThanOrEqual(100);
    expect(input?.MessageAttributes?.['job']).toEqual({ DataType: 'String', StringValue: 'check-instances' });
    expect(input?.MessageAttributes?.['severity']).toEqual({ DataType: 'String', StringValue: 'critical' });
    expect(JSON.parse(input?.MessageAttributes?.['codes']?.StringValue ?? '')).toEqual([
      'instance.scheduled-event',
      'instance.status-impaired',
    ]);
    const body = JSON.parse(input?.Message ?? '{}') as { default: string; email: string };
    const report = JSON.parse(body.default) as {
      runId: string;
      findings: Array<{ code: string; target: string }>;
    };
    expect(report.runId).toBe('evt-1');
    expect(report.findings.map((finding) => finding.code).sort()).toEqual([
      'instance.ok',
      'instance.scheduled-event',
      'instance.status-impaired',
    ]);
    expect(body.email).toContain('NEW CRITICAL i-0aaaaaaaaaaaaaaa1 (instance-retirement)');
    expect(body.email).toContain('web-1 (i-0aaaaaaaaaaaaaaa1) has a scheduled instance-retirement');
    expect(body.email).toContain('OK i-0aaaaaaaaaaaaaaa3: worker (i-0aaaaaaaaaaaaaaa3) is stopped');

    const again = await handler(scheduledEvent('evt-2'), lambdaContext('check-instances', 'req-2'));
    expect(again.published).toBe(false);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('notifies config.invalid and fails the invocation when a manual override is invalid', async () => {
    const { handler } = await import('#functions/check-instances/handler.ts');
    await expect(
      handler({ instanceIds: ['web-1'] }, lambdaContext('check-instances', 'req-3')),
    ).rejects.toThrow(/instances\.instanceIds\[0\]/);
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.Subject).toMatch(
      /^\[CRITICAL\] check-instances: check-instances: The configuration is invalid/,
    );
    expect(JSON.parse(input?.MessageAttributes?.['codes']?.StringValue ?? '')).toEqual(['config.invalid']);
  });

  it('notifies job.failed and then fails the invocation when the job crashes', async () => {
    const { handler } = await import('#functions/check-instances/handler.ts');
    process.env['AWS_ENDPOINT_URL_EC2'] = 'http://127.0.0.1:9';
    resetAwsClients();
    try {
      await expect(
        handler(scheduledEvent('evt-3'), lambdaContext('check-instances', 'req-4')),
      ).rejects.toThrow();
    } finally {
      process.env['AWS_ENDPOINT_URL_EC2'] = ec2.url;
      resetAwsClients();
    }
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.Subject).toMatch(
      /^\[CRITICAL\] check-instances: check-instances: The job crashed and checked nothing/,
    );
  });
});
