import { describe, expect, it } from 'vitest';
import { notifySchema } from '#shared/config/global.ts';
import type { Finding, Report } from '#shared/findings.ts';
import { worstSeverity } from '#shared/findings.ts';
import { decideAlerts } from '#shared/notify/alerts.ts';
import type { SnsMessage } from '#shared/notify/message.ts';
import { notifyRun, type Publisher } from '#shared/notify/notify.ts';
import { Redactor } from '#shared/redact.ts';
import { MemoryStateStore } from '#shared/state/memory.ts';

const settings = notifySchema.parse({});
const hour = 3600_000;
const start = Date.parse('2026-11-22T06:00:00Z');

function finding(target: string, severity: Finding['severity'], code = 'certificate.expiring'): Finding {
  return { job: 'check-certificates', code, target, severity, message: `${target} is ${severity}` };
}

function report(findings: Finding[]): Report {
  return {
    job: 'check-certificates',
    runId: 'r',
    startedAt: new Date(start).toISOString(),
    finishedAt: new Date(start).toISOString(),
    status: worstSeverity(findings),
    findings,
    stats: {},
  };
}

/** Runs a sequence of reports through notifyRun with one store, returning what each published. */
async function runSequence(runs: Array<{ at: number; findings: Finding[] }>, overrides = {}) {
  const state = new MemoryStateStore(() => start);
  const sent: SnsMessage[][] = [];
  const results = [];
  for (const run of runs) {
    const messages: SnsMessage[] = [];
    const publisher: Publisher = {
      publish: async (message) => {
        messages.push(message);
        return { messageId: 'm' };
      },
    };
    results.push(
      await notifyRun(report(run.findings), {
        settings: { ...settings, ...overrides },
        state,
        publisher,
        now: new Date(start + run.at),
        redactor: new Redactor(),
      }),
    );
    sent.push(messages);
  }
  return { results, sent };
}

describe('alert decisions', () => {
  it('notifies a new problem once, stays quiet while it persists, and reminds after the interval', async () => {
    const problem = [finding('a.example:443', 'critical'), finding('b.example:443', 'ok', 'certificate.ok')];
    const { results, sent } = await runSequence([
      { at: 0, findings: problem },
      { at: 6 * hour, findings: problem },
      { at: 25 * hour, findings: problem },
    ]);
    expect(results.map((result) => result.published)).toEqual([true, false, true]);
    expect(results[0]?.decision.tracked[0]?.change).toBe('new');
    expect(results[1]?.decision.tracked[0]?.change).toBe('ongoing');
    expect(results[2]?.decision.tracked[0]?.change).toBe('reminder');
    expect(sent[0]?.[0]?.Subject).toBe(
      '[CRITICAL] check-certificates: a.example:443: a.example:443 is critical',
    );
  });

  it('notifies a problem that gets worse, and again when it relapses after improving', async () => {
    const { results } = await runSequence([
      { at: 0, findings: [finding('a:443', 'warning')] },
      { at: hour, findings: [finding('a:443', 'critical')] },
      { at: 2 * hour, findings: [finding('a:443', 'warning')] },
      { at: 3 * hour, findings: [finding('a:443', 'critical')] },
    ]);
    expect(results.map((result) => result.decision.tracked[0]?.change)).toEqual([
      'new',
      'worse',
      'ongoing',
      'worse',
    ]);
  });

  it('says when a notified problem is resolved, but only for targets this run checked', async () => {
    const { results, sent } = await runSequence([
      { at: 0, findings: [finding('a:443', 'critical'), finding('b:443', 'warning')] },
      // b was not checked in this run (deadline): it must not be reported resolved.
      { at: hour, findings: [finding('a:443', 'ok', 'certificate.ok')] },
    ]);
    expect(results[1]?.decision.resolved.map((item) => item.target)).toEqual(['a:443']);
    expect(sent[1]?.[0]?.Subject).toBe('[RESOLVED] check-certificates: a:443 certificate.expiring');
  });

  it('holds back unknown until it persists for unknownAfterRuns consecutive runs', async () => {
    const flaky = [finding('c:443', 'unknown', 'endpoint.timeout')];
    const { results } = await runSequence([
      { at: 0, findings: flaky },
      { at: hour, findings: flaky },
      { at: 2 * hour, findings: flaky },
      { at: 3 * hour, findings: flaky },
    ]);
    expect(results.map((result) => result.published)).toEqual([false, false, true, false]);
    expect(results.map((result) => result.decision.tracked[0]?.change)).toEqual([
      'pending',
      'pending',
      'new',
      'ongoing',
    ]);
  });

  it('never reports a pending unknown as resolved when it clears', async () => {
    const { results } = await runSequence([
      { at: 0, findings: [finding('c:443', 'unknown', 'endpoint.timeout')] },
      { at: hour, findings: [finding('c:443', 'ok', 'certificate.ok')] },
    ]);
    expect(results[1]?.published).toBe(false);
    expect(results[1]?.decision.resolved).toEqual([]);
  });

  it('keeps all state when the job crashed: nothing was checked, nothing is resolved', async () => {
    const crash: Finding = {
      job: 'check-certificates',
      code: 'job.failed',
      target: 'check-certificates',
      severity: 'critical',
      message: 'boom',
    };
    const { results } = await runSequence([
      { at: 0, findings: [finding('a:443', 'critical')] },
      { at: hour, findings: [crash] },
      { at: 2 * hour, findings: [finding('a:443', 'critical')] },
    ]);
    expect(results[1]?.decision.resolved).toEqual([]);
    expect(results[1]?.decision.tracked[0]?.change).toBe('new');
    expect(results[2]?.decision.tracked[0]?.change).toBe('ongoing');
    expect(results[2]?.decision.resolved.map((item) => item.code)).toEqual(['job.failed']);
  });

  it('mode always notifies every run that has findings', async () => {
    const problem = [finding('a:443', 'warning')];
    const { results } = await runSequence(
      [
        { at: 0, findings: problem },
        { at: hour, findings: problem },
      ],
      { mode: 'always' },
    );
    expect(results.map((result) => result.published)).toEqual([true, true]);
  });

  it('does not remind when the interval is 0 (info by default)', () => {
    const info = finding('d', 'info', 'blocklist.policy-listed');
    const first = decideAlerts(report([info]), [], settings, new Date(start));
    const later = decideAlerts(report([info]), first.writes, settings, new Date(start + 1000 * hour));
    expect(first.tracked[0]?.change).toBe('new');
    expect(later.tracked[0]?.change).toBe('ongoing');
    expect(later.shouldNotify).toBe(false);
  });
});
