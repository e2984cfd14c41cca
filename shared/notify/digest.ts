/**
 * The email digest and subject: plain text, worst first, readable on a phone. The same digest is
 * what `watchkeeper run` prints.
 */
import {
  countBySeverity,
  type Finding,
  type Report,
  SEVERITIES_WORST_FIRST,
  type Severity,
} from '../findings.ts';
import type { AlertDecision, Change, ResolvedFinding } from './alerts.ts';

/** Longest subject SNS email accepts comfortably (SNS allows 100). */
export const SUBJECT_MAX = 100;

/** Options for `renderDigest`. */
export interface DigestOptions {
  /** Alert decision of this run: marks findings NEW/WORSE/REMINDER and lists what was resolved. */
  decision?: AlertDecision;
  /** List at most this many problems (the rest is counted). */
  limit?: number;
}

const LABEL: Record<Change, string> = {
  new: 'NEW',
  worse: 'WORSE',
  reminder: 'STILL',
  ongoing: 'STILL',
  pending: 'UNCONFIRMED',
};

/** Renders the plain-text digest of a report. */
export function renderDigest(report: Report, options: DigestOptions = {}): string {
  const counts = countBySeverity(report.findings);
  const summary = SEVERITIES_WORST_FIRST.filter((severity) => counts[severity] > 0)
    .map((severity) => `${counts[severity]} ${severity}`)
    .join(', ');
  const lines: string[] = [
    `${report.job}: ${report.status.toUpperCase()}`,
    `${summary || 'no findings'} | ${formatTime(report.startedAt)} | ${formatDuration(report.stats['durationMs'])}`,
    '',
  ];

  const changes = new Map<Finding, Change>();
  for (const entry of options.decision?.tracked ?? []) changes.set(entry.finding, entry.change);
  const problems = report.findings.filter((finding) => finding.severity !== 'ok');
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  for (const finding of problems.slice(0, limit)) {
    const change = changes.get(finding);
    const label = change ? `${LABEL[change]} ` : '';
    lines.push(`${label}${finding.severity.toUpperCase()} ${describeTarget(finding)}`);
    lines.push(`  ${finding.message}`);
    lines.push(`  (${finding.code})`);
  }
  if (problems.length > limit)
    lines.push(`... and ${problems.length - limit} more not shown (see the JSON report).`);

  const resolved = options.decision?.resolved ?? [];
  if (resolved.length > 0) {
    if (problems.length > 0) lines.push('');
    lines.push(`Resolved (${resolved.length}):`);
    for (const item of resolved.slice(0, limit))
      lines.push(`  RESOLVED ${describeTarget(item)}: ${item.code}`);
    if (resolved.length > limit) lines.push(`  ... and ${resolved.length - limit} more.`);
  }

  const healthy = report.findings.filter((finding) => finding.severity === 'ok');
  if (healthy.length > 0) {
    lines.push('', `Healthy (${healthy.length}):`);
    for (const finding of healthy.slice(0, limit))
      lines.push(`  OK ${describeTarget(finding)}: ${finding.message}`);
    if (healthy.length > limit) lines.push(`  ... and ${healthy.length - limit} more.`);
  }

  const stats = Object.entries(report.stats)
    .filter(([key]) => key !== 'durationMs')
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
  lines.push('', `Stats: ${stats || 'none'}`, `Run id: ${report.runId}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The subject: `[CRITICAL] check-certificates: api.example.com:443: The certificate expires in 3
 * days (+2 more)`; ASCII only, one line, at most 100 characters.
 */
export function renderSubject(report: Report, decision?: AlertDecision): string {
  const notable = decision
    ? decision.tracked
        .filter((entry) => entry.change !== 'ongoing' && entry.change !== 'pending')
        .map((entry) => entry.finding)
    : report.findings.filter((finding) => finding.severity !== 'ok');
  const resolved: ResolvedFinding[] = decision?.resolved ?? [];
  let text: string;
  if (notable.length === 0 && resolved.length > 0) {
    const first = resolved[0] as ResolvedFinding;
    text = `[RESOLVED] ${report.job}: ${first.target} ${first.code}${more(resolved.length - 1)}`;
  } else if (notable.length === 0) {
    text = `[${report.status.toUpperCase()}] ${report.job}: all ${report.findings.length} checks healthy`;
  } else {
    const worst = notable.reduce((a, b) => (rank(b.severity) > rank(a.severity) ? b : a));
    const severity = worst.severity.toUpperCase();
    text = `[${severity}] ${report.job}: ${worst.target}: ${worst.message}`;
    const suffix = more(notable.length - 1 + resolved.length);
    return fitSubject(text, suffix);
  }
  return fitSubject(text, '');
}

function more(count: number): string {
  return count > 0 ? ` (+${count} more)` : '';
}

function rank(severity: Severity): number {
  return SEVERITIES_WORST_FIRST.length - SEVERITIES_WORST_FIRST.indexOf(severity);
}

/** ASCII, single line, trailing period dropped, cut with "..." so `suffix` always fits. */
function fitSubject(text: string, suffix: string): string {
  const ascii = toAscii(text).replace(/\.$/, '');
  const room = SUBJECT_MAX - suffix.length;
  let body = ascii;
  if (ascii.length > room) {
    const cut = ascii.slice(0, room - 3);
    const space = cut.lastIndexOf(' ');
    // Cut at a word boundary unless that would lose most of the room.
    body = `${(space > room / 2 ? cut.slice(0, space) : cut).trimEnd()}...`;
  }
  return `${body}${suffix}`;
}

/** Folds text to printable ASCII on one line (SNS rejects control characters in subjects). */
export function toAscii(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u2012-\u2015]/g, '-')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '')
    .trim();
}

function describeTarget(item: { target: string; subject?: string }): string {
  return item.subject ? `${item.target} (${item.subject})` : item.target;
}

function formatTime(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
