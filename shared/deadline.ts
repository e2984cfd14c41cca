/** Deadlines derived from the time a run has (Lambda's remaining time, or a CLI budget). */
import type { Deadline } from './job.ts';

/** Milliseconds kept back for reporting and notifying after the jobs stop starting work. */
export const REPORTING_RESERVE_MS = 10_000;

/**
 * A deadline `budgetMs` from now. `reached()` turns true when less than `reserveMs` (default
 * REPORTING_RESERVE_MS, capped at a fifth of the budget for short runs) is left; `signal` aborts then.
 */
export function createDeadline(budgetMs: number, clock: () => number = Date.now): Deadline {
  const end = clock() + budgetMs;
  const defaultReserve = Math.min(REPORTING_RESERVE_MS, budgetMs / 5);
  const controller = new AbortController();
  const remainingMs = () => Math.max(0, end - clock());
  const timer = setTimeout(
    () => controller.abort(new Error('deadline reached')),
    Math.max(0, budgetMs - defaultReserve),
  );
  timer.unref();
  return {
    remainingMs,
    reached: (reserveMs = defaultReserve) => {
      const reached = remainingMs() <= reserveMs;
      if (reached && !controller.signal.aborted) controller.abort(new Error('deadline reached'));
      return reached;
    },
    signal: controller.signal,
  };
}
