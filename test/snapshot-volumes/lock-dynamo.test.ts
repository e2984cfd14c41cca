import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { definition, runSnapshots } from '#functions/snapshot-volumes/job.ts';
import type { Finding } from '#shared/findings.ts';
import { DynamoStateStore } from '#shared/state/dynamo.ts';
import { testContext } from '../support/context.ts';
import { type RunningDynalite, startDynalite } from '../support/dynalite.ts';
import { type FakeInstance, fakeAws } from './fake-aws.ts';

const DB: FakeInstance = {
  id: 'i-0000000000000000a',
  name: 'db-1',
  volumes: [{ volumeId: 'vol-000000000000000a1', device: '/dev/xvdf' }],
};
const SECTION = { instances: [DB.id], freeze: { mode: 'fsfreeze', mountPoints: ['/data'] } };

describe('instance locks in a real DynamoDB-compatible table (dynalite)', () => {
  let dynalite: RunningDynalite;
  let aws: ReturnType<typeof fakeAws> | undefined;

  beforeAll(async () => {
    dynalite = await startDynalite();
  });
  afterAll(async () => {
    await dynalite.close();
  });
  afterEach(() => aws?.restore());

  it('lets exactly one of concurrent invocations freeze and snapshot an instance', async () => {
    const fake = fakeAws({ instances: [DB] });
    aws = fake;
    const state = new DynamoStateStore(dynalite.table, dynalite.client, () => fake.now().getTime());
    const run = (runId: string, invocation: string) => {
      const ctx = testContext(definition, SECTION, { now: fake.now(), runId });
      return runSnapshots({ ...ctx, state }, fake.deps(invocation));
    };
    // A duplicated delivery of one scheduled event, and an overlapping run of another.
    const outcomes = await Promise.all([run('evt-1', 'a'), run('evt-1', 'b'), run('evt-2', 'c')]);
    const findings: Finding[] = outcomes.flatMap((outcome) => outcome.findings);
    expect(findings.filter((finding) => finding.code === 'snapshot.created')).toHaveLength(1);
    expect(findings.filter((finding) => finding.code === 'snapshot.skipped-locked')).toHaveLength(2);
    expect(fake.events.filter((event) => event.startsWith('ssm:SendCommand freeze'))).toHaveLength(1);
    expect(fake.events.filter((event) => event.startsWith('ec2:CreateSnapshots'))).toHaveLength(1);

    // Once the lock is released, a retry of the run that won is recognised and does nothing.
    const winner = findings.find((finding) => finding.code === 'snapshot.created')?.data?.['runId'];
    const retry = await run(String(winner), 'retry');
    expect(retry.findings.map((finding) => [finding.code, finding.data?.['reused']])).toEqual([
      ['snapshot.created', true],
    ]);
    expect(fake.events.filter((event) => event.startsWith('ec2:CreateSnapshots'))).toHaveLength(1);
  });
});
