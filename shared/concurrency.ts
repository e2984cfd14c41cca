/**
 * The one way watchkeeper runs many probes at once: bounded concurrency that stops starting new
 * work when the deadline is reached, and says what it did not reach.
 */
import pLimit from 'p-limit';
import type { Deadline } from './job.ts';

/** Results of `mapBounded`: results in input order for what ran, and the items never started. */
export interface BoundedResult<T, R> {
  results: R[];
  notStarted: T[];
}

/**
 * Maps `items` through `fn` with at most `concurrency` in flight. Once `deadline.reached()` no new
 * item starts; those are returned in `notStarted` so the job can report `job.incomplete`.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
  deadline?: Deadline,
): Promise<BoundedResult<T, R>> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const limit = pLimit(concurrency);
  const notStarted: T[] = [];
  const settled = await Promise.all(
    items.map((item, index) =>
      limit(async (): Promise<{ ran: true; value: R } | { ran: false }> => {
        if (deadline?.reached()) {
          notStarted.push(item);
          return { ran: false };
        }
        return { ran: true, value: await fn(item, index) };
      }),
    ),
  );
  const results: R[] = [];
  for (const entry of settled) if (entry.ran) results.push(entry.value);
  return { results, notStarted };
}
