/**
 * Judges one volume's backups from the snapshot side: the newest *completed* snapshot's age, failed
 * and stuck snapshots, and whether the newest is as consistent as it should be. Pure.
 */

import type { SnapshotRecord } from '#shared/ec2/snapshots.ts';
import { CONSISTENCY_TAG, FREEZE_MODE_TAG, MANAGED_BY_TAG } from '#shared/ec2/tags.ts';
import type { Finding, Severity } from '#shared/findings.ts';

/** A volume in scope, with where it is attached. */
export interface ScopedVolume {
  volumeId: string;
  instanceId?: string;
  device?: string;
  name?: string;
}

/** Thresholds of the audit. */
export interface AssessOptions {
  job: string;
  now: Date;
  maxAgeHours: number;
  pendingTooLongHours: number;
  expectConsistency: 'any' | 'application';
}

const HOUR_MS = 3_600_000;

/** How consistent a snapshot is known to be, from watchkeeper, DLM or VSS tags. */
export function consistencyOf(snapshot: SnapshotRecord): 'application' | 'crash' | 'unknown' {
  const ours = snapshot.tags[CONSISTENCY_TAG];
  if (ours === 'application' || ours === 'crash') return ours;
  // DLM only lets you infer application consistency from both script tags.
  const pre = snapshot.tags['aws:dlm:pre-script'];
  const post = snapshot.tags['aws:dlm:post-script'];
  if (pre !== undefined || post !== undefined)
    return pre === 'SUCCESS' && post === 'SUCCESS' ? 'application' : 'crash';
  const vss = snapshot.tags['AppConsistent'];
  if (vss !== undefined) return vss === 'true' ? 'application' : 'crash';
  return 'unknown';
}

function describeVolume(volume: ScopedVolume): string {
  const where = [volume.name ?? volume.instanceId, volume.device]
    .filter((part) => part !== undefined)
    .join(' ');
  return where === '' ? volume.volumeId : `${volume.volumeId} (${where})`;
}

function hours(ms: number): number {
  return Math.round((ms / HOUR_MS) * 10) / 10;
}

/** The findings for one volume, given every snapshot of it this account owns. */
export function assessVolume(
  volume: ScopedVolume,
  snapshots: readonly SnapshotRecord[],
  options: AssessOptions,
): Finding[] {
  const findings: Finding[] = [];
  const label = describeVolume(volume);
  const base = { instanceId: volume.instanceId, device: volume.device };
  const add = (
    code: string,
    severity: Severity,
    message: string,
    subject: string | undefined,
    data: Record<string, unknown>,
  ) =>
    findings.push({
      job: options.job,
      code,
      target: volume.volumeId,
      ...(subject === undefined ? {} : { subject }),
      severity,
      message,
      data: { ...base, ...data },
    });
  const now = options.now.getTime();
  const byNewest = [...snapshots].sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  const newest = byNewest.find((snapshot) => snapshot.state === 'completed');

  if (newest === undefined) {
    const pending = byNewest.filter((snapshot) => snapshot.state === 'pending').length;
    add(
      'backup.missing',
      'critical',
      `${label} has no completed snapshot${pending > 0 ? ` (${pending} still pending)` : ''}.`,
      undefined,
      { pending, errors: byNewest.filter((snapshot) => snapshot.state === 'error').length },
    );
  } else {
    const ageHours = hours(now - newest.startTime.getTime());
    if (ageHours > options.maxAgeHours) {
      add(
        'backup.stale',
        'warning',
        `The newest completed snapshot of ${label} is ${ageHours} hours old (limit ${options.maxAgeHours}).`,
        newest.snapshotId,
        { ageHours, maxAgeHours: options.maxAgeHours, startTime: newest.startTime.toISOString() },
      );
    }
    const consistency = consistencyOf(newest);
    const freezeMode = newest.tags[FREEZE_MODE_TAG];
    const frozeConfigured = freezeMode !== undefined && freezeMode !== 'none';
    if (consistency !== 'application' && (frozeConfigured || options.expectConsistency === 'application')) {
      add(
        'backup.crash-consistent',
        'warning',
        `The newest snapshot of ${label} is only ${consistency === 'crash' ? 'crash-consistent' : 'of unknown consistency'}${frozeConfigured ? ` although a ${freezeMode} freeze is configured` : ''}.`,
        newest.snapshotId,
        { consistency, freezeMode: freezeMode ?? null, startTime: newest.startTime.toISOString() },
      );
    }
  }

  // Only failures since the last good snapshot matter; older ones were already followed by success.
  const since = newest?.startTime.getTime() ?? Number.NEGATIVE_INFINITY;
  for (const failed of byNewest.filter(
    (snapshot) => snapshot.state === 'error' && snapshot.startTime.getTime() > since,
  )) {
    add(
      'backup.failed',
      'warning',
      `Snapshot ${failed.snapshotId} of ${label} failed (state error, started ${failed.startTime.toISOString()}).`,
      failed.snapshotId,
      { startTime: failed.startTime.toISOString(), managed: failed.tags[MANAGED_BY_TAG] !== undefined },
    );
  }
  for (const stuck of byNewest.filter((snapshot) => snapshot.state === 'pending')) {
    const pendingHours = hours(now - stuck.startTime.getTime());
    if (pendingHours > options.pendingTooLongHours) {
      add(
        'backup.pending-too-long',
        'warning',
        `Snapshot ${stuck.snapshotId} of ${label} has been pending for ${pendingHours} hours (${stuck.progress ?? '?'} done).`,
        stuck.snapshotId,
        { pendingHours, progress: stuck.progress ?? null, limitHours: options.pendingTooLongHours },
      );
    }
  }

  if (findings.length === 0 && newest !== undefined) {
    const ageHours = hours(now - newest.startTime.getTime());
    add(
      'backup.ok',
      'ok',
      `${label} was last backed up ${ageHours} hours ago (${consistencyOf(newest)}-consistent, ${newest.snapshotId}).`,
      newest.snapshotId,
      { ageHours, consistency: consistencyOf(newest), snapshots: byNewest.length },
    );
  }
  return findings;
}
