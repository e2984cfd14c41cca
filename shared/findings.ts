/**
 * The one contract every job speaks: findings, their severities, and the report a run produces.
 * Codes are public (SNS subscribers filter on them): add codes, never rename them.
 */

/** How bad a finding is. `unknown` means "could not tell" and is never reported as healthy. */
export type Severity = 'ok' | 'info' | 'warning' | 'critical' | 'unknown';

/** One observation about one configured target. */
export interface Finding {
  /** The job that produced it, e.g. `check-certificates`. */
  job: string;
  /** Stable identifier, e.g. `certificate.expiring`. */
  code: string;
  /** What the user configured: `example.com:443`, `vol-0abc`, `s3://bucket/key`. */
  target: string;
  /** Finer detail: an IP address, a blocklist zone, a snapshot id. */
  subject?: string;
  severity: Severity;
  /** One sentence a person understands without the data. */
  message: string;
  /** Machine detail: daysLeft, notAfter, fingerprint, expected/actual ... */
  data?: Record<string, unknown>;
}

/** The result of one job run. */
export interface Report {
  job: string;
  runId: string;
  startedAt: string;
  finishedAt: string;
  /** Worst severity of all findings; `ok` when there are none. */
  status: Severity;
  findings: Finding[];
  /** Targets checked, queries sent, objects scanned ... */
  stats: Record<string, number>;
}

/** Rank for "worst first": critical > warning > unknown > info > ok. */
const RANK: Record<Severity, number> = { ok: 0, info: 1, unknown: 2, warning: 3, critical: 4 };

/** All severities, worst first. */
export const SEVERITIES_WORST_FIRST: readonly Severity[] = ['critical', 'warning', 'unknown', 'info', 'ok'];

/** Numeric rank of a severity; larger is worse. */
export function severityRank(severity: Severity): number {
  return RANK[severity];
}

/** The worse of two severities. */
export function worse(a: Severity, b: Severity): Severity {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Worst severity among findings; `ok` for none. */
export function worstSeverity(findings: Iterable<Pick<Finding, 'severity'>>): Severity {
  let worst: Severity = 'ok';
  for (const finding of findings) worst = worse(worst, finding.severity);
  return worst;
}

/** Findings sorted worst first, then by target and code, so digests read the same way every run. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      RANK[b.severity] - RANK[a.severity] ||
      a.target.localeCompare(b.target) ||
      a.code.localeCompare(b.code) ||
      (a.subject ?? '').localeCompare(b.subject ?? ''),
  );
}

/** Count of findings per severity. */
export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, warning: 0, unknown: 0, info: 0, ok: 0 };
  for (const finding of findings) counts[finding.severity] += 1;
  return counts;
}

/** The identity of a finding across runs (what alert state is keyed on). */
export function findingKey(finding: Pick<Finding, 'job' | 'code' | 'target' | 'subject'>): string {
  return [finding.job, finding.target, finding.subject ?? '', finding.code].join('|');
}

/** Finding codes every job may emit. Job-specific codes live with the job. */
export const COMMON_CODES = {
  failed: 'job.failed',
  incomplete: 'job.incomplete',
  configInvalid: 'config.invalid',
} as const;

/** Whether a value is a severity name. */
export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && value in RANK;
}
