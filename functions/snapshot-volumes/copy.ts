/**
 * Cross-region copies: the newest *completed* snapshot of each volume goes to each configured
 * region once (a pending one cannot be copied), tagged with its source so the copies can be
 * retained per source volume (a copy's own volume id is meaningless).
 */
import { CopySnapshotCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { errorMessage, errorName } from '#shared/ec2/errors.ts';
import { listOwnSnapshots, MANAGED_FILTER, type SnapshotRecord } from '#shared/ec2/snapshots.ts';
import { INSTANCE_TAG, SOURCE_SNAPSHOT_TAG, SOURCE_VOLUME_TAG } from '#shared/ec2/tags.ts';
import type { Finding } from '#shared/findings.ts';
import type { JobContext } from '#shared/job.ts';
import type { RetentionPolicy, SnapshotsSection } from './config.ts';
import { executePrune, planPrune } from './retention.ts';

/** What copying to one region did for one instance. */
export interface CopyResult {
  copied: number;
  findings: Finding[];
}

/** Copies the newest completed snapshot of each volume in `ours` to `copy.region`, then prunes there. */
export async function copyNewestSnapshots(
  ctx: JobContext<SnapshotsSection>,
  target: EC2Client,
  ours: readonly SnapshotRecord[],
  instanceId: string,
  copy: { region: string; retention?: RetentionPolicy | undefined },
  sourceRegion: string | undefined,
): Promise<CopyResult> {
  const result: CopyResult = { copied: 0, findings: [] };
  if (sourceRegion === undefined) {
    const error = new Error('the source region is unknown (set AWS_REGION or the global "region")');
    result.findings.push(failure(ctx, instanceId, copy.region, undefined, error));
    return result;
  }
  const newest = new Map<string, SnapshotRecord>();
  for (const snapshot of ours) {
    if (snapshot.state !== 'completed') continue;
    const current = newest.get(snapshot.volumeId);
    if (current === undefined || current.startTime < snapshot.startTime)
      newest.set(snapshot.volumeId, snapshot);
  }
  let copies: SnapshotRecord[];
  try {
    copies = await listOwnSnapshots(
      target,
      [MANAGED_FILTER, { Name: `tag:${INSTANCE_TAG}`, Values: [instanceId] }],
      ctx.deadline.signal,
    );
  } catch (error) {
    result.findings.push(failure(ctx, instanceId, copy.region, undefined, error));
    return result;
  }
  const present = new Set(copies.map((snapshot) => snapshot.tags[SOURCE_SNAPSHOT_TAG]));
  for (const snapshot of newest.values()) {
    if (present.has(snapshot.snapshotId)) continue;
    try {
      const tags = Object.entries(snapshot.tags)
        .filter(([key]) => !key.startsWith('aws:'))
        .map(([Key, Value]) => ({ Key, Value }));
      const output = await target.send(
        new CopySnapshotCommand({
          SourceRegion: sourceRegion,
          SourceSnapshotId: snapshot.snapshotId,
          Description: `watchkeeper copy of ${snapshot.snapshotId} (${snapshot.volumeId}) from ${sourceRegion}`,
          TagSpecifications: [
            {
              ResourceType: 'snapshot',
              Tags: [
                ...tags.filter((tag) => tag.Key !== SOURCE_SNAPSHOT_TAG && tag.Key !== SOURCE_VOLUME_TAG),
                { Key: SOURCE_SNAPSHOT_TAG, Value: snapshot.snapshotId },
                { Key: SOURCE_VOLUME_TAG, Value: snapshot.volumeId },
              ],
            },
          ],
        }),
        { abortSignal: ctx.deadline.signal },
      );
      result.copied += 1;
      result.findings.push({
        job: ctx.job,
        code: 'snapshot.copied',
        target: instanceId,
        subject: snapshot.snapshotId,
        severity: 'info',
        message: `Copying snapshot ${snapshot.snapshotId} of ${snapshot.volumeId} to ${copy.region} as ${output.SnapshotId ?? 'a new snapshot'}.`,
        data: {
          region: copy.region,
          sourceSnapshotId: snapshot.snapshotId,
          copySnapshotId: output.SnapshotId,
        },
      });
    } catch (error) {
      result.findings.push(failure(ctx, instanceId, copy.region, snapshot, error));
    }
  }
  if (copy.retention !== undefined) {
    const plan = planPrune(
      copies,
      copy.retention,
      ctx.now(),
      (snapshot) => snapshot.tags[SOURCE_VOLUME_TAG] ?? snapshot.volumeId,
    );
    result.findings.push(
      ...(await executePrune(target, plan, {
        job: ctx.job,
        target: instanceId,
        region: copy.region,
        signal: ctx.deadline.signal,
      })),
    );
  }
  return result;
}

function failure(
  ctx: JobContext<SnapshotsSection>,
  instanceId: string,
  region: string,
  snapshot: SnapshotRecord | undefined,
  error: unknown,
): Finding {
  return {
    job: ctx.job,
    code: 'snapshot.copy-failed',
    target: instanceId,
    ...(snapshot === undefined ? {} : { subject: snapshot.snapshotId }),
    severity: 'warning',
    message: `Copying ${snapshot === undefined ? 'snapshots' : `snapshot ${snapshot.snapshotId}`} of ${instanceId} to ${region} failed: ${errorMessage(error)}.`,
    data: { region, error: errorName(error) },
  };
}
