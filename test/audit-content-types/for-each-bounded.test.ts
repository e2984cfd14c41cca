import { describe, expect, it } from 'vitest';
import { forEachBounded } from '#functions/audit-content-types/for-each-bounded.ts';
import type { Deadline } from '#shared/job.ts';

async function* numbers(count: number, pulled: { value: number }): AsyncGenerator<number> {
  for (let i = 0; i < count; i += 1) {
    pulled.value = i + 1;
    yield i;
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('forEachBounded', () => {
  it('never runs more than the limit and never pulls more than two batches ahead', async () => {
    const pulled = { value: 0 };
    let running = 0;
    let maxRunning = 0;
    let finished = 0;
    let maxAhead = 0;
    const outcome = await forEachBounded(numbers(500, pulled), 8, async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      maxAhead = Math.max(maxAhead, pulled.value - finished);
      await tick();
      running -= 1;
      finished += 1;
    });
    expect(outcome).toEqual({ started: 500, stoppedEarly: false });
    expect(maxRunning).toBe(8);
    expect(maxAhead).toBeLessThanOrEqual(16);
  });

  it('stops pulling at the deadline and lets the running items finish', async () => {
    let checks = 0;
    const deadline: Deadline = {
      remainingMs: () => 1,
      reached: () => ++checks > 20,
      signal: new AbortController().signal,
    };
    const done: number[] = [];
    const outcome = await forEachBounded(
      numbers(100, { value: 0 }),
      4,
      async (n) => {
        await tick();
        done.push(n);
      },
      deadline,
    );
    expect(outcome).toEqual({ started: 20, stoppedEarly: true });
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('rethrows the first failure after the running items settle', async () => {
    const settled: number[] = [];
    await expect(
      forEachBounded(numbers(50, { value: 0 }), 4, async (n) => {
        await tick();
        if (n === 3) throw new Error('boom at 3');
        settled.push(n);
      }),
    ).rejects.toThrow('boom at 3');
    expect(settled.length).toBeLessThan(50);
  });

  it('rejects a concurrency that is not a positive integer', async () => {
    await expect(forEachBounded(numbers(1, { value: 0 }), 0, async () => undefined)).rejects.toThrow(
      'concurrency must be a positive integer, got 0',
    );
  });
});
