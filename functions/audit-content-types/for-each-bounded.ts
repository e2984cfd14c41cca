/**
 * `mapBounded` for a stream: the listing of a bucket is an async iterable of unknown length, so
 * it cannot be handed over as an array without holding every key in memory. Built on the same
 * p-limit limiter; pulls from the source only while fewer than two batches' worth are queued, so
 * memory stays flat however large the bucket, and stops pulling once the deadline is reached.
 */
import pLimit from 'p-limit';
import type { Deadline } from '#shared/job.ts';

/** What `forEachBounded` did. */
export interface StreamOutcome {
  started: number;
  /** True when the deadline stopped it before the source was exhausted. */
  stoppedEarly: boolean;
}

/**
 * Runs `fn` on every item of `source` with at most `concurrency` in flight. `fn` must handle its
 * own per-item failures; if it throws anyway, no new item starts and the first error is rethrown
 * after the running ones finish.
 */
export async function forEachBounded<T>(
  source: AsyncIterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<void>,
  deadline?: Deadline,
): Promise<StreamOutcome> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const limit = pLimit(concurrency);
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let started = 0;
  let stoppedEarly = false;
  for await (const item of source) {
    if (failure) break;
    if (deadline?.reached()) {
      stoppedEarly = true;
      break;
    }
    const task: Promise<void> = limit(() => fn(item))
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
    started += 1;
    // Backpressure: keep one batch running and one queued, no more.
    while (inFlight.size >= concurrency * 2) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
  return { started, stoppedEarly };
}
