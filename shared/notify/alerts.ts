/**
 * Alert state: which findings of a run deserve a message. By default a run tells what is new or
 * worse, reminds of what persists (per severity), says what was resolved, and holds back `unknown`
 * until it has persisted for N consecutive runs (a flapping resolver must not page anyone).
 */
import type { NotifySettings } from '../config/global.ts';
import {
  COMMON_CODES,
  type Finding,
  findingKey,
  isSeverity,
  type Report,
  type Severity,
  severityRank,
} from '../findings.ts';
import type { StateItem, StateValue } from '../state/store.ts';

/** Why a finding is (or is not) in this run's message. */
export type Change = 'new' | 'worse' | 'reminder' | 'ongoing' | 'pending';

/** A current problem and how it relates to what was notified before. */
export interface TrackedFinding {
  finding: Finding;
  change: Change;
  /** Consecutive runs in which this finding was present. */
  streak: number;
  firstSeen: string;
}

/** A previously notified problem that this run found gone. */
export interface ResolvedFinding {
  job: string;
  code: string;
  target: string;
  subject?: string;
  severity: Severity;
  message: string;
  firstSeen: string;
}

/** The outcome of comparing a run with the stored alert state. */
export interface AlertDecision {
  tracked: TrackedFinding[];
  resolved: ResolvedFinding[];
  /** True when the run has something to say (new, worse, reminder or resolved). */
  shouldNotify: boolean;
  /** Items to write back, and keys to delete. */
  writes: StateItem[];
  deletes: string[];
}

/** Alert items live for this long after they were last seen, so abandoned targets fade away. */
export const ALERT_TTL_SECONDS = 30 * 24 * 3600;

/** State partition of a job's alert items. */
export function alertPartition(job: string): string {
  return `alert#${job}`;
}

interface StoredAlert {
  code: string;
  target: string;
  subject?: string;
  severity: Severity;
  message: string;
  firstSeen: string;
  streak: number;
  notifiedAt?: string;
  notifiedSeverity?: Severity;
}

const NOTIFYING: ReadonlySet<Change> = new Set(['new', 'worse', 'reminder']);

/** Compares a report with the previous alert items of its job and decides what to notify. */
export function decideAlerts(
  report: Report,
  previous: readonly StateItem[],
  settings: NotifySettings,
  now: Date,
): AlertDecision {
  const stored = new Map<string, StoredAlert>();
  for (const item of previous) {
    const alert = readStoredAlert(item.value);
    if (alert) stored.set(item.key, alert);
  }
  const nowIso = now.toISOString();
  const crashed = report.findings.some((finding) => finding.code === COMMON_CODES.failed);
  const checkedTargets = new Set(report.findings.map((finding) => finding.target));
  if (!crashed) checkedTargets.add(report.job);

  const tracked: TrackedFinding[] = [];
  const writes: StateItem[] = [];
  const seen = new Set<string>();
  for (const finding of report.findings) {
    if (finding.severity === 'ok') continue;
    const key = findingKey(finding);
    seen.add(key);
    const before = stored.get(key);
    const streak = (before?.streak ?? 0) + 1;
    const change = classify(finding.severity, before, streak, settings, now);
    const notified = settings.mode === 'always' || NOTIFYING.has(change);
    const next: StoredAlert = {
      code: finding.code,
      target: finding.target,
      ...(finding.subject === undefined ? {} : { subject: finding.subject }),
      severity: finding.severity,
      message: finding.message,
      firstSeen: before?.firstSeen ?? nowIso,
      streak,
      ...(notified
        ? { notifiedAt: nowIso, notifiedSeverity: finding.severity }
        : notifiedFields(before, finding.severity)),
    };
    writes.push({ key, value: next as unknown as StateValue });
    tracked.push({
      finding,
      change: settings.mode === 'always' && change === 'ongoing' ? 'reminder' : change,
      streak,
      firstSeen: next.firstSeen,
    });
  }

  const resolved: ResolvedFinding[] = [];
  const deletes: string[] = [];
  for (const [key, alert] of stored) {
    if (seen.has(key) || crashed || !checkedTargets.has(alert.target)) continue;
    deletes.push(key);
    if (alert.notifiedAt !== undefined && settings.notifyResolved) {
      resolved.push({
        job: report.job,
        code: alert.code,
        target: alert.target,
        ...(alert.subject === undefined ? {} : { subject: alert.subject }),
        severity: alert.severity,
        message: alert.message,
        firstSeen: alert.firstSeen,
      });
    }
  }

  const shouldNotify =
    resolved.length > 0 || tracked.some((entry) => NOTIFYING.has(entry.change) || settings.mode === 'always');
  return { tracked, resolved, shouldNotify, writes, deletes };
}

function classify(
  severity: Severity,
  before: StoredAlert | undefined,
  streak: number,
  settings: NotifySettings,
  now: Date,
): Change {
  if (severity === 'unknown' && streak < settings.unknownAfterRuns && before?.notifiedAt === undefined)
    return 'pending';
  if (before?.notifiedAt === undefined || before.notifiedSeverity === undefined) return 'new';
  if (severityRank(severity) > severityRank(before.notifiedSeverity)) return 'worse';
  const remindHours = settings.remindAfterHours[severity as Exclude<Severity, 'ok'>];
  const sinceMs = now.getTime() - Date.parse(before.notifiedAt);
  if (remindHours > 0 && sinceMs >= remindHours * 3600_000) return 'reminder';
  return 'ongoing';
}

/** Keeps the last notification, lowering its severity when the problem improved, so a relapse is "worse". */
function notifiedFields(before: StoredAlert | undefined, severity: Severity): Partial<StoredAlert> {
  if (before?.notifiedAt === undefined || before.notifiedSeverity === undefined) return {};
  const notifiedSeverity =
    severityRank(severity) < severityRank(before.notifiedSeverity) ? severity : before.notifiedSeverity;
  return { notifiedAt: before.notifiedAt, notifiedSeverity };
}

function readStoredAlert(value: StateValue): StoredAlert | undefined {
  const { code, target, severity, message, firstSeen, streak } = value;
  if (typeof code !== 'string' || typeof target !== 'string' || !isSeverity(severity)) return undefined;
  const alert: StoredAlert = {
    code,
    target,
    severity,
    message: typeof message === 'string' ? message : '',
    firstSeen: typeof firstSeen === 'string' ? firstSeen : new Date(0).toISOString(),
    streak: typeof streak === 'number' ? streak : 0,
  };
  if (typeof value['subject'] === 'string') alert.subject = value['subject'];
  if (typeof value['notifiedAt'] === 'string') alert.notifiedAt = value['notifiedAt'];
  if (isSeverity(value['notifiedSeverity'])) alert.notifiedSeverity = value['notifiedSeverity'];
  return alert;
}
