import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { mapBounded } from '#shared/concurrency.ts';
import { globalShape } from '#shared/config/global.ts';
import { createDeadline } from '#shared/deadline.ts';
import type { JobDefinition } from '#shared/job.ts';
import { runJob } from '#shared/runner.ts';
import { MemoryStateStore } from '#shared/state/memory.ts';

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

function input<C>(definition: JobDefinition<C>, section: C, budgetMs = 60_000) {
  let tick = Date.parse('2026-11-22T06:00:00Z');
  return {
    definition,
    global: z.object(globalShape).parse({}),
    section,
    sections: {},
    runId: 'run-1',
    now: () => {
      tick += 250;
      return new Date(tick);
    },
    deadline: createDeadline(budgetMs),
    logger: quietLogger,
    state: new MemoryStateStore(),
    resolveSecret: async () => 'secret',
    runtime: { inLambda: false, region: 'eu-west-1' },
  };
}

const base = {
  name: 'check-demo',
  section: 'demo',
  description: 'demo',
  runsLocally: true,
  schema: z.object({}),
};

describe('runJob', () => {
  it('turns a crash into one critical job.failed finding and hands the error back', async () => {
    const definition: JobDefinition<object> = {
      ...base,
      run: async () => Promise.reject(new TypeError('resolver exploded')),
    };
    const { report, error } = await runJob(input(definition, {}));
    expect(error?.message).toBe('resolver exploded');
    expect(report.status).toBe('critical');
    expect(report.findings).toEqual([
      expect.objectContaining({
        code: 'job.failed',
        severity: 'critical',
        message: 'The job crashed and checked nothing: TypeError: resolver exploded',
      }),
    ]);
  });

  it('adds job.incomplete when the job stopped at its deadline, and sorts findings worst first', async () => {
    const definition: JobDefinition<object> = {
      ...base,
      run: async () => ({
        findings: [
          { job: 'check-demo', code: 'demo.ok', target: 'a', severity: 'ok', message: 'fine' },
          { job: 'check-demo', code: 'demo.bad', target: 'b', severity: 'critical', message: 'bad' },
        ],
        stats: { targets: 2 },
        incomplete: {
          message: '3 of 5 targets were not reached before the deadline.',
          data: { notReached: ['c', 'd', 'e'] },
        },
      }),
    };
    const { report, error } = await runJob(input(definition, {}));
    expect(error).toBeUndefined();
    expect(report.findings.map((finding) => [finding.code, finding.severity])).toEqual([
      ['demo.bad', 'critical'],
      ['job.incomplete', 'warning'],
      ['demo.ok', 'ok'],
    ]);
    expect(report.stats).toEqual({ targets: 2, durationMs: 250 });
  });
});

describe('mapBounded', () => {
  it('never runs more than the limit at once and keeps input order', async () => {
    let running = 0;
    let peak = 0;
    const { results } = await mapBounded([5, 1, 4, 2, 3], 2, async (value) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, value));
      running -= 1;
      return value * 10;
    });
    expect(peak).toBe(2);
    expect(results).toEqual([50, 10, 40, 20, 30]);
  });

  it('starts nothing new once the deadline is reached and returns what it did not start', async () => {
    const deadline = createDeadline(100);
    const { results, notStarted } = await mapBounded(
      ['a', 'b', 'c', 'd'],
      1,
      async (item) => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return item;
      },
      deadline,
    );
    expect(results.length + notStarted.length).toBe(4);
    expect(notStarted.length).toBeGreaterThan(0);
    expect(deadline.signal.aborted).toBe(true);
  });

  it('rejects a concurrency that is not a positive integer', async () => {
    await expect(mapBounded([1], 0, async (value) => value)).rejects.toThrow(/positive integer/);
  });
});
