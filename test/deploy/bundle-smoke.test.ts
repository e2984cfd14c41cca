/**
 * The unit tests run the TypeScript sources; Lambda runs the esbuild bundles. This runs the real
 * bundles (built with the deploy options: ESM, minified, require shim, embedded config, the
 * environment credential provider) in a fresh Node process, against loopback SNS, DynamoDB
 * (dynalite), EC2 and DNS servers, and checks what they published and stored.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDnsServer, startDnsServer } from '#sandbox/dns-server.ts';
import { bundleHandler } from '../../deploy/bundle.ts';
import { type RunningDynalite, startDynalite } from '../support/dynalite.ts';
import { type Ec2Endpoint, startEc2Endpoint } from '../support/ec2-endpoint.ts';
import { lambdaContext, scheduledEvent } from '../support/lambda.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../support/sns-endpoint.ts';

const exec = promisify(execFile);
let directory: string;
let dynamo: RunningDynalite;
let sns: SnsEndpoint;
let ec2: Ec2Endpoint;
let dns: RunningDnsServer;
const bundles = new Map<string, string>();

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'wk-smoke-'));
  [dynamo, sns, ec2, dns] = await Promise.all([
    startDynalite(),
    startSnsEndpoint(),
    startEc2Endpoint([
      { id: 'i-0ccccccccccccccc1', name: 'batch', state: 'running', systemStatus: 'impaired' },
    ]),
    startDnsServer({
      records: [
        { name: 'smoke.test', type: 'A', data: '192.0.2.1' },
        { name: 'smoke.test', type: 'TXT', data: ['v=spf1 ip4:192.0.2.0/24 -all'] },
        { name: '_dmarc.smoke.test', type: 'TXT', data: ['v=DMARC1; p=reject'] },
        { name: 'mail.smoke.test', type: 'A', data: '192.0.2.25' },
        { name: '25.2.0.192.in-addr.arpa', type: 'PTR', data: 'mail.smoke.test' },
      ],
    }),
  ]);
  const config = join(directory, 'watchkeeper.yml');
  await writeFile(
    config,
    [
      'region: eu-west-1',
      'instances: {}',
      'dns:',
      `  resolver: "${dns.address}"`,
      '  timeoutMs: 1000',
      '  domains:',
      '    - name: smoke.test',
      '      records: { MX: ["10 mail.smoke.test"] }',
      '      mail: { senders: [{ ip: 192.0.2.25, hostname: mail.smoke.test }, { ip: 198.51.100.7, hostname: mail.smoke.test }] }',
    ].join('\n'),
  );
  // deploy/esbuild.cjs embeds the file named here, as `sls package` would.
  const previous = process.env['WATCHKEEPER_CONFIG'];
  process.env['WATCHKEEPER_CONFIG'] = config;
  try {
    for (const job of ['check-dns', 'check-instances']) {
      bundles.set(job, (await bundleHandler(`functions/${job}/handler.ts`, directory)).outfile);
    }
  } finally {
    if (previous === undefined) delete process.env['WATCHKEEPER_CONFIG'];
    else process.env['WATCHKEEPER_CONFIG'] = previous;
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([dynamo?.close(), sns?.close(), ec2?.close(), dns?.close()]);
  await rm(directory, { recursive: true, force: true });
});

/** Imports the bundle in a fresh process (no vitest, no TypeScript) and invokes its handler once. */
async function invokeBundle(job: string, eventId: string): Promise<Record<string, unknown>> {
  const script = `const { handler } = await import(${JSON.stringify(bundles.get(job))});
    const result = await handler(${JSON.stringify(scheduledEvent(eventId))}, { ...${JSON.stringify(lambdaContext(job, eventId))}, getRemainingTimeInMillis: () => 60000 });
    process.stderr.write('RESULT ' + JSON.stringify(result) + '\\n');`;
  const { stderr } = await exec(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env['PATH'],
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'smoke',
      AWS_SECRET_ACCESS_KEY: 'smoke',
      AWS_SESSION_TOKEN: 'smoke',
      AWS_ENDPOINT_URL_SNS: sns.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_EC2: ec2.url,
      WATCHKEEPER_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:watchkeeper-smoke-alerts',
      WATCHKEEPER_STATE_TABLE: dynamo.table,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
    timeout: 60_000,
  });
  const line = stderr.split('\n').find((text) => text.startsWith('RESULT '));
  if (!line) throw new Error(`the bundle printed no result:\n${stderr}`);
  return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
}

describe('bundled handlers', () => {
  it('check-dns (CommonJS dependencies behind the require shim) runs, publishes and keeps alert state', async () => {
    const result = await invokeBundle('check-dns', 'smoke-dns-1');
    expect(result).toMatchObject({
      job: 'check-dns',
      runId: 'smoke-dns-1',
      status: 'critical',
      published: true,
    });
    const message = sns.published.find((published) => published['Subject']?.includes('check-dns'));
    expect(message?.['Subject']).toMatch(/^\[CRITICAL\] check-dns: smoke\.test/);
    expect(message?.['MessageStructure']).toBe('json');
    // mailauth's SPF evaluation ran inside the bundle: one sender passes, the other is refused.
    const report = JSON.parse(JSON.parse(message?.['Message'] ?? '{}').default) as {
      findings: Array<{ code: string; subject?: string }>;
    };
    const codes = report.findings.map((finding) => finding.code);
    expect(codes).toContain('mail.spf-sender-not-authorized');
    expect(
      report.findings.find((finding) => finding.code === 'mail.spf-sender-not-authorized')?.subject,
    ).toMatch(/198\.51\.100\.7/);
    const items = await dynamo.client.send(
      new QueryCommand({
        TableName: dynamo.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'alert#check-dns' } },
      }),
    );
    expect(items.Items?.length).toBeGreaterThan(0);
  });

  it('check-instances (the EC2 client, with the environment credential provider) runs against EC2', async () => {
    const result = await invokeBundle('check-instances', 'smoke-ec2-1');
    expect(result).toMatchObject({ job: 'check-instances', status: 'critical', published: true });
    expect(ec2.calls).toEqual(['DescribeInstances', 'DescribeInstanceStatus']);
    const message = sns.published.find((published) => published['Subject']?.includes('check-instances'));
    expect(message?.['Subject']).toMatch(/^\[CRITICAL\] check-instances: i-0ccccccccccccccc1: batch/);
  });
});
