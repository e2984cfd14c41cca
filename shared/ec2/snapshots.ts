/** Reading snapshots: this account's own only (never public or shared ones), all pages. */
import { DescribeSnapshotsCommand, type EC2Client, type Filter, type Snapshot } from '@aws-sdk/client-ec2';
import { MANAGED_BY_TAG, MANAGED_BY_VALUE } from './tags.ts';

/** A snapshot as retention and the backup audit see it. */
export interface SnapshotRecord {
  snapshotId: string;
  volumeId: string;
  /** pending | completed | error | recoverable | recovering */
  state: string;
  startTime: Date;
  progress: string | undefined;
  tags: Record<string, string>;
}

/** Converts an SDK snapshot; undefined when it lacks the fields every snapshot has. */
export function toSnapshotRecord(snapshot: Snapshot): SnapshotRecord | undefined {
  if (snapshot.SnapshotId === undefined || snapshot.StartTime === undefined) return undefined;
  const tags: Record<string, string> = {};
  for (const tag of snapshot.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  return {
    snapshotId: snapshot.SnapshotId,
    volumeId: snapshot.VolumeId ?? 'vol-ffffffff',
    state: snapshot.State ?? 'unknown',
    startTime: snapshot.StartTime,
    progress: snapshot.Progress,
    tags,
  };
}

/** Every snapshot of this account matching `filters`, all pages (never public or shared ones). */
export async function listOwnSnapshots(
  ec2: EC2Client,
  filters: Filter[],
  signal?: AbortSignal,
): Promise<SnapshotRecord[]> {
  const records: SnapshotRecord[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: filters,
        MaxResults: 1000,
        NextToken: nextToken,
      }),
      signal === undefined ? {} : { abortSignal: signal },
    );
    for (const snapshot of page.Snapshots ?? []) {
      const record = toSnapshotRecord(snapshot);
      if (record) records.push(record);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return records;
}

/** The filter that selects only snapshots watchkeeper made. */
export const MANAGED_FILTER: Filter = { Name: `tag:${MANAGED_BY_TAG}`, Values: [MANAGED_BY_VALUE] };
