import { afterEach, describe, expect, it } from 'vitest';
import { definition, runSnapshots } from '#functions/snapshot-volumes/job.ts';
import { planPrune } from '#functions/snapshot-volumes/retention.ts';
import type { SnapshotRecord } from '#shared/ec2/snapshots.ts';
import type { Finding } from '#shared/findings.ts';
import { testContext } from '../support/context.ts';
import { type FakeInstance, type FakeSnapshot, fakeAws } from './fake-aws.ts';

const NOW = new Date('2027-01-31T03:00:00Z');
const DAY = 86_400_000;
const OURS = { 'watchkeeper:managed-by': 'watchkeeper' };

function record(
  id: string,
  daysAgo: number,
  state = 'completed',
  tags: Record<string, string> = OURS,
  volumeId = 'vol-1',
): SnapshotRecord {
  return {
    snapshotId: id,
    volumeId,
    state,
    startTime: new Date(NOW.getTime() - daysAgo * DAY),
    progress: '100%',
    tags,
  };
}
const ids = (snapshots: readonly SnapshotRecord[]) => snapshots.map((snapshot) => snapshot.snapshotId).sort();

describe('planPrune', () => {
  const history = [record('s0', 0), record('s1', 1), record('s2', 2), record('s3', 10), record('s4', 40)];

  it('keeps the newest `keep` completed snapshots per volume', () => {
    expect(ids(planPrune(history, { keep: 2 }, NOW).delete)).toEqual(['s2', 's3', 's4']);
  });

  it('deletes by age alone', () => {
    expect(ids(planPrune(history, { maxAgeDays: 7 }, NOW).delete)).toEqual(['s3', 's4']);
  });

  it('treats keep as a floor that age never breaks', () => {
    expect(ids(planPrune(history, { keep: 4, maxAgeDays: 7 }, NOW).delete)).toEqual(['s4']);
  });

  it('never deletes the newest completed snapshot, however old', () => {
    const old = [record('a', 400), record('b', 500)];
    expect(ids(planPrune(old, { maxAgeDays: 1 }, NOW).delete)).toEqual(['b']);
  });

  it('never deletes pending or failed snapshots, nor counts them as the newest', () => {
    const snapshots = [
      record('p', 0, 'pending'),
      record('e', 0.5, 'error'),
      record('c1', 1),
      record('c2', 2),
    ];
    expect(ids(planPrune(snapshots, { keep: 1 }, NOW).delete)).toEqual(['c2']);
  });

  it('never deletes snapshots it did not make, or tagged watchkeeper:keep', () => {
    const snapshots = [
      record('new', 0),
      record('manual', 50, 'completed', {}),
      record('dlm', 50, 'completed', { 'aws:dlm:lifecycle-policy-id': 'policy-1' }),
      record('spoof', 50, 'completed', { 'watchkeeper:managed-by': 'someone-else' }),
      record('pinned', 50, 'completed', { ...OURS, 'watchkeeper:keep': 'audit' }),
      record('old', 50),
    ];
    expect(ids(planPrune(snapshots, { keep: 1 }, NOW).delete)).toEqual(['old']);
  });

  it('counts per volume, or per source volume for copies', () => {
    const snapshots = [
      record('a0', 0, 'completed', OURS, 'vol-a'),
      record('a1', 1, 'completed', OURS, 'vol-a'),
      record('b0', 5, 'completed', OURS, 'vol-b'),
    ];
    expect(ids(planPrune(snapshots, { keep: 1 }, NOW).delete)).toEqual(['a1']);
  });
});

const DB: FakeInstance = {
  id: 'i-0000000000000000a',
  name: 'db-1',
  volumes: [
    { volumeId: 'vol-000000000000000a0', device: '/dev/xvda' },
    { volumeId: 'vol-000000000000000a1', device: '/dev/xvdf' },
  ],
};
const VOLUME = 'vol-000000000000000a1';
const tagged = (instanceId = DB.id) => ({
  'watchkeeper:managed-by': 'watchkeeper',
  'watchkeeper:instance-id': instanceId,
});

let aws: ReturnType<typeof fakeAws> | undefined;
afterEach(() => aws?.restore());

describe('retention after a snapshot run', () => {
  function history(now: Date): FakeSnapshot[] {
    const at = (days: number) => new Date(now.getTime() - days * DAY);
    return [
      { id: 'snap-old00001', volumeId: VOLUME, state: 'completed', start: at(1), tags: tagged() },
      { id: 'snap-old00002', volumeId: VOLUME, state: 'completed', start: at(2), tags: tagged() },
      { id: 'snap-old00003', volumeId: VOLUME, state: 'completed', start: at(3), tags: tagged() },
      { id: 'snap-ami00004', volumeId: VOLUME, state: 'completed', start: at(4), tags: tagged() },
      { id: 'snap-use00005', volumeId: VOLUME, state: 'completed', start: at(5), tags: tagged() },
      { id: 'snap-err00006', volumeId: VOLUME, state: 'completed', start: at(6), tags: tagged() },
      { id: 'snap-pend0007', volumeId: VOLUME, state: 'pending', start: at(7), tags: tagged() },
      { id: 'snap-manual08', volumeId: VOLUME, state: 'completed', start: at(8), tags: {} },
      {
        id: 'snap-foreign9',
        volumeId: VOLUME,
        state: 'completed',
        start: at(9),
        tags: tagged(),
        ownedByUs: false,
      },
      {
        id: 'snap-other010',
        volumeId: 'vol-000000000000000ff',
        state: 'completed',
        start: at(9),
        tags: tagged('i-0000000000000000f'),
      },
    ];
  }

  it('deletes only our old snapshots, page by page, keeping AMI-used ones and reporting each', async () => {
    const fake = fakeAws({ instances: [DB], pageSize: 2 });
    fake.snapshots.push(...history(fake.now()));
    fake.images.push({ imageId: 'ami-0123456789abcdef0', snapshotIds: ['snap-ami00004'] });
    fake.deleteErrors.set('snap-use00005', 'InvalidSnapshot.InUse');
    fake.deleteErrors.set('snap-err00006', 'UnauthorizedOperation');
    aws = fake;
    const ctx = testContext(
      definition,
      { instances: [DB.id], retention: { keep: 2 } },
      { now: fake.now(), runId: 'evt-9' },
    );
    const outcome = await runSnapshots(ctx, fake.deps());
    const byCode = (code: string) => outcome.findings.filter((finding: Finding) => finding.code === code);
    // Kept: the new pending one, old00001 (the newest completed) and old00002 (keep: 2).
    expect(byCode('snapshot.pruned').map((finding) => finding.subject)).toEqual(['snap-old00003']);
    expect(
      byCode('snapshot.prune-failed').map((finding) => [
        finding.subject,
        finding.severity,
        finding.data?.['reason'],
      ]),
    ).toEqual([
      ['snap-ami00004', 'info', 'in-use-by-ami'],
      ['snap-use00005', 'info', 'in-use'],
      ['snap-err00006', 'warning', 'error'],
    ]);
    expect(byCode('snapshot.prune-failed')[0]?.message).toBe(
      'Snapshot snap-ami00004 is past retention but kept: AMI ami-0123456789abcdef0 uses it.',
    );
    const deleted = fake.events
      .filter((event) => event.startsWith('ec2:DeleteSnapshot'))
      .map((event) => event.split(' ')[1]);
    expect(deleted).toEqual(['snap-old00003', 'snap-use00005', 'snap-err00006']);
    for (const survivor of [
      'snap-old00001',
      'snap-old00002',
      'snap-pend0007',
      'snap-manual08',
      'snap-foreign9',
      'snap-other010',
    ]) {
      expect(
        fake.snapshots.some((snapshot) => snapshot.id === survivor),
        survivor,
      ).toBe(true);
    }
    expect(outcome.stats['snapshotsPruned']).toBe(1);
  });

  it('prunes nothing when this run could not snapshot', async () => {
    const fake = fakeAws({ instances: [DB] });
    fake.snapshots.push(...history(fake.now()));
    fake.createBehaviour.set(DB.id, 'throw');
    aws = fake;
    const ctx = testContext(
      definition,
      { instances: [DB.id], retention: { maxAgeDays: 1 } },
      { now: fake.now() },
    );
    await runSnapshots(ctx, fake.deps());
    expect(fake.events.filter((event) => /DeleteSnapshot|DescribeImages/.test(event))).toEqual([]);
  });

  it('copies the newest completed snapshot of each volume to another region, once', async () => {
    const fake = fakeAws({ instances: [DB] });
    fake.snapshots.push(...history(fake.now()).slice(0, 2));
    aws = fake;
    const section = { instances: [DB.id], copyTo: [{ region: 'eu-central-1' }] };
    const first = await runSnapshots(
      testContext(definition, section, { now: fake.now(), runId: 'evt-a' }),
      fake.deps(),
    );
    const copied = first.findings.filter((finding) => finding.code === 'snapshot.copied');
    expect(copied.map((finding) => finding.subject)).toEqual(['snap-old00001']);
    expect(copied[0]?.message).toMatch(
      /^Copying snapshot snap-old00001 of vol-000000000000000a1 to eu-central-1 as snap-copy\d+\.$/,
    );
    const copy = fake.snapshots.find(
      (snapshot) => snapshot.tags['watchkeeper:source-snapshot-id'] === 'snap-old00001',
    );
    expect(copy?.tags).toMatchObject({
      'watchkeeper:managed-by': 'watchkeeper',
      'watchkeeper:source-volume-id': VOLUME,
    });
    fake.events.length = 0;
    await runSnapshots(testContext(definition, section, { now: fake.now(), runId: 'evt-b' }), fake.deps());
    expect(fake.events.filter((event) => event.startsWith('ec2:CopySnapshot'))).toEqual([]);
  });
});
