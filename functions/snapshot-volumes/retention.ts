/**
 * Retention that never destroys a backup it should not: only snapshots tagged as ours and owned by
 * this account, never the newest completed one of a volume, never a pending or failed one, never
 * one an AMI uses, never one tagged `watchkeeper:keep`.
 */
import { DeleteSnapshotCommand, DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { errorMessage, errorName } from '#shared/ec2/errors.ts';
import type { SnapshotRecord } from '#shared/ec2/snapshots.ts';
import { KEEP_TAG, MANAGED_BY_TAG, MANAGED_BY_VALUE } from '#shared/ec2/tags.ts';
import type { Finding } from '#shared/findings.ts';
import type { RetentionPolicy } from './config.ts';

/** What retention decided for one set of snapshots. */
export interface PrunePlan {
  delete: SnapshotRecord[];
  keep: SnapshotRecord[];
}

const DAY_MS = 86_400_000;

/**
 * Decides which snapshots to delete, per group (volume, or source volume for copies). With `keep`
 * and `maxAgeDays` both set, a snapshot goes only when it is beyond the newest `keep` AND older
 * than `maxAgeDays`: `keep` is a floor that age never breaks.
 */
export function planPrune(
  snapshots: readonly SnapshotRecord[],
  policy: RetentionPolicy,
  now: Date,
  groupOf: (snapshot: SnapshotRecord) => string = (snapshot) => snapshot.volumeId,
): PrunePlan {
  const plan: PrunePlan = { delete: [], keep: [] };
  const groups = new Map<string, SnapshotRecord[]>();
  for (const snapshot of snapshots) {
    // Checked here again although the query filters on it: a foreign snapshot must never get through.
    if (snapshot.tags[MANAGED_BY_TAG] !== MANAGED_BY_VALUE) continue;
    const group = groups.get(groupOf(snapshot)) ?? [];
    group.push(snapshot);
    groups.set(groupOf(snapshot), group);
  }
  for (const group of groups.values()) {
    const completed = group
      .filter((snapshot) => snapshot.state === 'completed')
      .sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
    plan.keep.push(...group.filter((snapshot) => snapshot.state !== 'completed'));
    completed.forEach((snapshot, index) => {
      const beyondKeep = policy.keep === undefined || index >= policy.keep;
      const tooOld =
        policy.maxAgeDays === undefined ||
        now.getTime() - snapshot.startTime.getTime() > policy.maxAgeDays * DAY_MS;
      const prunable = index > 0 && beyondKeep && tooOld && !(KEEP_TAG in snapshot.tags);
      (prunable ? plan.delete : plan.keep).push(snapshot);
    });
  }
  return plan;
}

/** Deletes what `plan` says, keeping (and reporting) snapshots an AMI uses. One finding per snapshot. */
export async function executePrune(
  ec2: EC2Client,
  plan: PrunePlan,
  context: { job: string; target: string; region: string | undefined; signal?: AbortSignal },
): Promise<Finding[]> {
  const findings: Finding[] = [];
  if (plan.delete.length === 0) return findings;
  const options = context.signal === undefined ? {} : { abortSignal: context.signal };
  const usedBy = await imagesUsing(
    ec2,
    plan.delete.map((snapshot) => snapshot.snapshotId),
    options,
  );
  const where = context.region === undefined ? '' : ` in ${context.region}`;
  for (const snapshot of plan.delete) {
    const base = { job: context.job, target: context.target, subject: snapshot.snapshotId };
    const data = {
      snapshotId: snapshot.snapshotId,
      volumeId: snapshot.volumeId,
      startTime: snapshot.startTime.toISOString(),
      region: context.region,
    };
    const image = usedBy.get(snapshot.snapshotId);
    if (image !== undefined) {
      findings.push({
        ...base,
        code: 'snapshot.prune-failed',
        severity: 'info',
        message: `Snapshot ${snapshot.snapshotId}${where} is past retention but kept: AMI ${image} uses it.`,
        data: { ...data, imageId: image, reason: 'in-use-by-ami' },
      });
      continue;
    }
    try {
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshot.snapshotId }), options);
      findings.push({
        ...base,
        code: 'snapshot.pruned',
        severity: 'info',
        message: `Deleted snapshot ${snapshot.snapshotId}${where} of ${snapshot.volumeId} from ${snapshot.startTime.toISOString().slice(0, 10)} (past retention).`,
        data,
      });
    } catch (error) {
      const name = errorName(error);
      const inUse = name === 'InvalidSnapshot.InUse';
      findings.push({
        ...base,
        code: 'snapshot.prune-failed',
        severity: inUse ? 'info' : 'warning',
        message: inUse
          ? `Snapshot ${snapshot.snapshotId}${where} is past retention but kept: it is in use (${errorMessage(error)}).`
          : `Could not delete snapshot ${snapshot.snapshotId}${where}: ${errorMessage(error)}.`,
        data: { ...data, error: name, reason: inUse ? 'in-use' : 'error' },
      });
    }
  }
  return findings;
}

// One DescribeImages per 200 candidates instead of learning it from a failed delete.
async function imagesUsing(
  ec2: EC2Client,
  snapshotIds: readonly string[],
  options: { abortSignal?: AbortSignal },
): Promise<Map<string, string>> {
  const usedBy = new Map<string, string>();
  const wanted = new Set(snapshotIds);
  for (let at = 0; at < snapshotIds.length; at += 200) {
    let nextToken: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeImagesCommand({
          Owners: ['self'],
          IncludeDeprecated: true,
          IncludeDisabled: true,
          Filters: [{ Name: 'block-device-mapping.snapshot-id', Values: snapshotIds.slice(at, at + 200) }],
          NextToken: nextToken,
        }),
        options,
      );
      for (const image of page.Images ?? []) {
        for (const mapping of image.BlockDeviceMappings ?? []) {
          const id = mapping.Ebs?.SnapshotId;
          if (id !== undefined && wanted.has(id) && image.ImageId !== undefined)
            usedBy.set(id, image.ImageId);
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return usedBy;
}
