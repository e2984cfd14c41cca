import { DescribeInstanceStatusCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-instances/job.ts';
import { testContext } from '../support/context.ts';

const ec2 = mockClient(EC2Client);
const now = new Date('2026-11-22T06:00:00Z');
const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;

beforeEach(() => {
  ec2.reset();
  process.env['AWS_REGION'] = 'eu-west-1';
});

describe('check-instances', () => {
  it('follows DescribeInstanceStatus pages and reports each instance', async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            { InstanceId: id(1), State: { Name: 'running' } },
            { InstanceId: id(2), State: { Name: 'running' }, Tags: [{ Key: 'Name', Value: 'db' }] },
          ],
        },
      ],
    });
    ec2
      .on(DescribeInstanceStatusCommand)
      .resolvesOnce({
        InstanceStatuses: [
          {
            InstanceId: id(1),
            InstanceState: { Name: 'running' },
            SystemStatus: { Status: 'ok' },
            InstanceStatus: { Status: 'ok' },
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        InstanceStatuses: [
          {
            InstanceId: id(2),
            InstanceState: { Name: 'running' },
            SystemStatus: { Status: 'ok' },
            InstanceStatus: { Status: 'ok' },
            Events: [
              {
                Code: 'instance-retirement',
                Description: 'degraded',
                NotBefore: new Date('2026-11-25T00:00:00Z'),
              },
            ],
          },
        ],
      });
    const outcome = await definition.run(testContext(definition, {}, { now }));
    expect(outcome.findings.map((finding) => [finding.target, finding.code, finding.severity])).toEqual([
      [id(1), 'instance.ok', 'ok'],
      [id(2), 'instance.scheduled-event', 'critical'],
    ]);
    expect(outcome.findings[1]?.message).toMatch(/^db \(/);
    expect(outcome.stats).toEqual({ instances: 2, scheduledEvents: 1, missing: 0 });
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstanceStatusCommand, 2);
    expect(ec2).toHaveReceivedNthCommandWith(DescribeInstanceStatusCommand, 2, {
      NextToken: 'page-2',
      IncludeAllInstances: true,
    });
  });

  it('selects by tag through DescribeInstances, since the status API cannot filter by tag', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const outcome = await definition.run(
      testContext(definition, { tags: { env: 'prod', role: ['web', 'db'] } }, { now }),
    );
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'tag:env', Values: ['prod'] },
        { Name: 'tag:role', Values: ['web', 'db'] },
      ],
    });
    expect(ec2).not.toHaveReceivedCommand(DescribeInstanceStatusCommand);
    expect(outcome.findings).toEqual([
      expect.objectContaining({ code: 'instance.none-matched', severity: 'info' }),
    ]);
  });

  it('reports configured instances that do not exist instead of silently skipping them', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [{ InstanceId: id(1), State: { Name: 'terminated' } }] }] });
    const outcome = await definition.run(testContext(definition, { instanceIds: [id(1)] }, { now }));
    expect(outcome.findings).toEqual([
      expect.objectContaining({ code: 'instance.not-found', target: id(1), severity: 'warning' }),
    ]);
  });

  it('asks for status in batches of at most 100 ids', async () => {
    const instances = Array.from({ length: 250 }, (_, index) => ({
      InstanceId: id(index + 1),
      State: { Name: 'stopped' as const },
    }));
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: instances }] });
    ec2.on(DescribeInstanceStatusCommand).callsFake((input: { InstanceIds: string[] }) => ({
      InstanceStatuses: input.InstanceIds.map((instanceId) => ({
        InstanceId: instanceId,
        InstanceState: { Name: 'stopped' },
      })),
    }));
    const outcome = await definition.run(testContext(definition, {}, { now }));
    const sizes = ec2
      .commandCalls(DescribeInstanceStatusCommand)
      .map((call) => call.args[0].input.InstanceIds?.length);
    expect(sizes).toEqual([100, 100, 50]);
    expect(outcome.stats['instances']).toBe(250);
  });

  it('lets an EC2 failure crash the run (the runner turns it into job.failed)', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));
    await expect(definition.run(testContext(definition, {}, { now }))).rejects.toThrow('not authorized');
  });

  it('rejects malformed instance ids with the field path', () => {
    const result = definition.schema.safeParse({ instanceIds: ['web-1'] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['instanceIds', 0]);
    expect(result.error?.issues[0]?.message).toMatch(/EC2 instance id/);
  });
});
