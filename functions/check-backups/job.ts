/** check-backups: every in-scope volume has a recent, completed, consistent snapshot (any tool's). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { awsClient } from '#shared/aws.ts';
import { mapBounded } from '#shared/concurrency.ts';
import { explainAwsError, requireRegion } from '#shared/ec2/errors.ts';
import { listOwnSnapshots, type SnapshotRecord } from '#shared/ec2/snapshots.ts';
import type { Finding } from '#shared/findings.ts';
import type { JobContext, JobDefinition, JobOutcome } from '#shared/job.ts';
import { assessVolume } from './assess.ts';
import { type BackupsSection, backupsSchema } from './config.ts';
import { resolveScope, type Scope } from './scope.ts';

const VOLUMES_PER_QUERY = 200;

/** Runs the audit with an explicit EC2 client (the definition wires the real one). */
export async function runBackupAudit(ctx: JobContext<BackupsSection>, ec2: EC2Client): Promise<JobOutcome> {
  const config = ctx.config;
  let scope: Scope;
  try {
    scope = await resolveScope(ec2, config, ctx.deadline.signal);
  } catch (error) {
    throw explainAwsError('Listing the volumes to audit (DescribeInstances/DescribeVolumes)', error);
  }
  const findings: Finding[] = [];
  for (const id of scope.missingInstances) {
    findings.push({
      job: ctx.job,
      code: 'backup.missing',
      target: id,
      severity: 'critical',
      message: `Instance ${id} was not found (or is terminated), so none of its volumes can be checked.`,
      data: { reason: 'instance-not-found' },
    });
  }
  for (const id of scope.missingVolumes) {
    findings.push({
      job: ctx.job,
      code: 'backup.missing',
      target: id,
      severity: 'critical',
      message: `Volume ${id} was not found, so its backups cannot be checked.`,
      data: { reason: 'volume-not-found' },
    });
  }
  const volumeIds = [...scope.volumes.keys()];
  const chunks: string[][] = [];
  for (let at = 0; at < volumeIds.length; at += VOLUMES_PER_QUERY)
    chunks.push(volumeIds.slice(at, at + VOLUMES_PER_QUERY));
  // Every snapshot this account owns, whoever made it (DLM, AWS Backup, people): an independent audit.
  const { results, notStarted } = await mapBounded(
    chunks,
    config.concurrency,
    (chunk) => listOwnSnapshots(ec2, [{ Name: 'volume-id', Values: chunk }], ctx.deadline.signal),
    ctx.deadline,
  );
  const byVolume = new Map<string, SnapshotRecord[]>();
  let seen = 0;
  for (const snapshot of results.flat()) {
    seen += 1;
    const list = byVolume.get(snapshot.volumeId) ?? [];
    list.push(snapshot);
    byVolume.set(snapshot.volumeId, list);
  }
  const unreached = new Set(notStarted.flat());
  const options = {
    job: ctx.job,
    now: ctx.now(),
    maxAgeHours: config.maxAgeHours,
    pendingTooLongHours: config.pendingTooLongHours,
    expectConsistency: config.expectConsistency,
  };
  for (const volume of scope.volumes.values()) {
    if (unreached.has(volume.volumeId)) continue;
    findings.push(...assessVolume(volume, byVolume.get(volume.volumeId) ?? [], options));
  }
  const outcome: JobOutcome = {
    findings,
    stats: { volumes: scope.volumes.size, snapshotsSeen: seen, volumesNotReached: unreached.size },
  };
  if (unreached.size > 0) {
    outcome.incomplete = {
      message: `${unreached.size} volume(s) not checked before the deadline.`,
      data: { volumes: [...unreached] },
    };
  }
  return outcome;
}

/** The check-backups job. */
export const definition: JobDefinition<BackupsSection> = {
  name: 'check-backups',
  section: 'backups',
  description:
    'Every in-scope EBS volume has a recent completed snapshot, none failed or stuck, consistent where a freeze is set',
  schema: backupsSchema,
  runsLocally: false,
  permissions: () => [
    { actions: ['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeSnapshots'], resources: ['*'] },
  ],
  async run(ctx) {
    const region = requireRegion('check-backups', ctx.runtime.region, ctx.global.region);
    return runBackupAudit(ctx, awsClient(EC2Client, { region }));
  },
};
