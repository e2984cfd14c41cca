import { describe, expect, it } from 'vitest';
import { type AssessOptions, assessVolume, consistencyOf } from '#functions/check-backups/assess.ts';
import type { SnapshotRecord } from '#shared/ec2/snapshots.ts';

const NOW = new Date('2027-03-01T07:00:00Z');
const HOUR = 3_600_000;
const OPTIONS: AssessOptions = {
  job: 'check-backups',
  now: NOW,
  maxAgeHours: 26,
  pendingTooLongHours: 8,
  expectConsistency: 'any',
};
const VOLUME = { volumeId: 'vol-1', instanceId: 'i-1', device: '/dev/xvdf', name: 'db-1' };

function snap(
  id: string,
  hoursAgo: number,
  state = 'completed',
  tags: Record<string, string> = {},
): SnapshotRecord {
  return {
    snapshotId: id,
    volumeId: 'vol-1',
    state,
    startTime: new Date(NOW.getTime() - hoursAgo * HOUR),
    progress: state === 'pending' ? '42%' : '100%',
    tags,
  };
}
const summary = (snapshots: SnapshotRecord[], options: Partial<AssessOptions> = {}) =>
  assessVolume(VOLUME, snapshots, { ...OPTIONS, ...options }).map((finding) => [
    finding.code,
    finding.severity,
    finding.subject ?? null,
  ]);

describe('assessVolume', () => {
  it('reports a recent completed snapshot as ok with its age and consistency', () => {
    const [finding] = assessVolume(
      VOLUME,
      [snap('s1', 3, 'completed', { 'watchkeeper:consistency': 'application' }), snap('s0', 27)],
      OPTIONS,
    );
    expect(finding).toMatchObject({ code: 'backup.ok', severity: 'ok', target: 'vol-1', subject: 's1' });
    expect(finding?.message).toBe(
      'vol-1 (db-1 /dev/xvdf) was last backed up 3 hours ago (application-consistent, s1).',
    );
  });

  it('reports a volume without any completed snapshot as missing, counting pending ones', () => {
    const [finding] = assessVolume(VOLUME, [snap('p', 1, 'pending')], OPTIONS);
    expect(finding).toMatchObject({ code: 'backup.missing', severity: 'critical' });
    expect(finding?.message).toBe('vol-1 (db-1 /dev/xvdf) has no completed snapshot (1 still pending).');
    expect(summary([])).toEqual([['backup.missing', 'critical', null]]);
  });

  it('judges age by the newest completed snapshot, not by newer pending or failed ones', () => {
    expect(summary([snap('p', 1, 'pending'), snap('e', 2, 'error'), snap('old', 30)])).toEqual([
      ['backup.stale', 'warning', 'old'],
      ['backup.failed', 'warning', 'e'],
    ]);
  });

  it('ignores failures that a later good snapshot superseded', () => {
    expect(summary([snap('good', 2), snap('bad', 26, 'error')])).toEqual([['backup.ok', 'ok', 'good']]);
  });

  it('reports a snapshot pending too long with its progress', () => {
    const findings = assessVolume(VOLUME, [snap('slow', 9, 'pending'), snap('good', 20)], OPTIONS);
    expect(findings.map((finding) => finding.code)).toEqual(['backup.pending-too-long']);
    expect(findings[0]?.message).toBe(
      'Snapshot slow of vol-1 (db-1 /dev/xvdf) has been pending for 9 hours (42% done).',
    );
  });

  it('flags a crash-consistent newest snapshot where a freeze was configured', () => {
    const findings = assessVolume(
      VOLUME,
      [snap('s', 1, 'completed', { 'watchkeeper:consistency': 'crash', 'watchkeeper:freeze-mode': 'mysql' })],
      OPTIONS,
    );
    expect(findings.map((finding) => [finding.code, finding.severity])).toEqual([
      ['backup.crash-consistent', 'warning'],
    ]);
    expect(findings[0]?.message).toBe(
      'The newest snapshot of vol-1 (db-1 /dev/xvdf) is only crash-consistent although a mysql freeze is configured.',
    );
    // Without a freeze, crash consistency is what was asked for.
    expect(
      summary([
        snap('s', 1, 'completed', { 'watchkeeper:consistency': 'crash', 'watchkeeper:freeze-mode': 'none' }),
      ]),
    ).toEqual([['backup.ok', 'ok', 's']]);
  });

  it('with expectConsistency application, requires proof from any tool', () => {
    const dlmOk = snap('dlm', 1, 'completed', {
      'aws:dlm:pre-script': 'SUCCESS',
      'aws:dlm:post-script': 'SUCCESS',
    });
    const dlmFailed = snap('dlm2', 1, 'completed', {
      'aws:dlm:pre-script': 'FAILED',
      'aws:dlm:post-script': 'SUCCESS',
    });
    const manual = snap('manual', 1);
    expect(summary([dlmOk], { expectConsistency: 'application' })).toEqual([['backup.ok', 'ok', 'dlm']]);
    expect(summary([dlmFailed], { expectConsistency: 'application' })).toEqual([
      ['backup.crash-consistent', 'warning', 'dlm2'],
    ]);
    expect(
      assessVolume(VOLUME, [manual], { ...OPTIONS, expectConsistency: 'application' })[0]?.message,
    ).toContain('of unknown consistency');
  });

  it('reads consistency from watchkeeper, DLM and VSS tags', () => {
    expect(consistencyOf(snap('a', 1, 'completed', { AppConsistent: 'true' }))).toBe('application');
    expect(consistencyOf(snap('b', 1, 'completed', { AppConsistent: 'false' }))).toBe('crash');
    expect(consistencyOf(snap('c', 1))).toBe('unknown');
  });
});
