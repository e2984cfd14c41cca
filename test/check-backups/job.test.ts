import { DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { backupsSchema } from '#functions/check-backups/config.ts';
import { definition, runBackupAudit } from '#functions/check-backups/job.ts';
import { type FakeSnapshot, fakeAws } from '../snapshot-volumes/fake-aws.ts';
import { testContext } from '../support/context.ts';

const HOUR = 3_600_000;
const DB = {
  id: 'i-0000000000000000a',
  name: 'db-1',
  volumes: [
    { volumeId: 'vol-000000000000000a0', device: '/dev/xvda' },
    { volumeId: 'vol-000000000000000a1', device: '/dev/xvdf' },
    { volumeId: 'vol-000000000000000a2', device: '/dev/xvdg' },
  ],
};

let aws: ReturnType<typeof fakeAws> | undefined;
afterEach(() => aws?.restore());

describe('check-backups', () => {
  it("audits the data volumes of an instance and a tagged volume, seeing every tool's snapshots, page by page", async () => {
    const fake = fakeAws({ instances: [DB], pageSize: 1 });
    aws = fake;
    const at = (hours: number) => new Date(fake.now().getTime() - hours * HOUR);
    const snapshots: FakeSnapshot[] = [
      // Made by DLM, not by us: still counts.
      {
        id: 'snap-dlm',
        volumeId: 'vol-000000000000000a1',
        state: 'completed',
        start: at(5),
        tags: { 'aws:dlm:lifecycle-policy-id': 'p' },
      },
      { id: 'snap-old', volumeId: 'vol-000000000000000a2', state: 'completed', start: at(50), tags: {} },
      { id: 'snap-err', volumeId: 'vol-000000000000000a2', state: 'error', start: at(2), tags: {} },
      { id: 'snap-tag', volumeId: 'vol-0000000000000000e', state: 'completed', start: at(1), tags: {} },
      // Someone else's public snapshot of a volume id that happens to match: never seen (OwnerIds self).
      {
        id: 'snap-public',
        volumeId: 'vol-000000000000000a1',
        state: 'error',
        start: at(1),
        tags: {},
        ownedByUs: false,
      },
    ];
    fake.snapshots.push(...snapshots);
    fake.ec2.on(DescribeVolumesCommand).resolves({
      Volumes: [
        { VolumeId: 'vol-0000000000000000e', Attachments: [], Tags: [{ Key: 'Name', Value: 'archive' }] },
      ],
    });
    const ctx = testContext(
      definition,
      { instances: [DB.id], volumeTags: { Backup: 'daily' } },
      { now: fake.now() },
    );
    const outcome = await runBackupAudit(ctx, new EC2Client({ region: 'eu-west-1' }));
    expect(
      outcome.findings.map((finding) => `${finding.target} ${finding.code} ${finding.subject ?? ''}`).sort(),
    ).toEqual([
      'vol-0000000000000000e backup.ok snap-tag',
      'vol-000000000000000a1 backup.ok snap-dlm',
      'vol-000000000000000a2 backup.failed snap-err',
      'vol-000000000000000a2 backup.stale snap-old',
    ]);
    expect(outcome.findings.find((finding) => finding.code === 'backup.stale')?.message).toBe(
      'The newest completed snapshot of vol-000000000000000a2 (db-1 /dev/xvdg) is 50 hours old (limit 26).',
    );
    expect(outcome.stats).toEqual({ volumes: 3, snapshotsSeen: 4, volumesNotReached: 0 });
  });

  it('reports configured instances and volumes that do not exist, and volumes never snapshotted', async () => {
    const fake = fakeAws({ instances: [DB] });
    aws = fake;
    fake.ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    const ctx = testContext(
      definition,
      {
        instances: [DB.id, 'i-0000000000000000f'],
        volumes: ['vol-0000000000000000d'],
        includeBootVolume: true,
      },
      { now: fake.now() },
    );
    const outcome = await runBackupAudit(ctx, new EC2Client({ region: 'eu-west-1' }));
    expect(
      outcome.findings.map((finding) => `${finding.target} ${finding.code} ${finding.severity}`).sort(),
    ).toEqual([
      'i-0000000000000000f backup.missing critical',
      'vol-0000000000000000d backup.missing critical',
      'vol-000000000000000a0 backup.missing critical',
      'vol-000000000000000a1 backup.missing critical',
      'vol-000000000000000a2 backup.missing critical',
    ]);
  });

  it('needs a selector, and names the field', () => {
    const result = backupsSchema.safeParse({ maxAgeHours: 0 });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual([
      'maxAgeHours: Too small: expected number to be >=1',
      'instances: expected "instances", "instanceTags", "volumes" or "volumeTags" to select volumes',
    ]);
  });

  it('asks only for read-only EC2 permissions', () => {
    const section = backupsSchema.parse({ volumes: ['vol-0000000000000000d'] });
    expect(definition.permissions?.(section)).toEqual([
      {
        actions: ['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeSnapshots'],
        resources: ['*'],
      },
    ]);
  });
});
