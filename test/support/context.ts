/** A JobContext for unit tests: real config parsing, an in-memory state store, a fixed clock, captured logs. */

import { localJobContext } from '#sandbox/job-context.ts';
import type { JobContext, JobDefinition, JobLogger } from '#shared/job.ts';
import type { MemoryStateStore } from '#shared/state/memory.ts';

/** Log lines captured by the test logger. */
export interface CapturedLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  extra?: Record<string, unknown>;
}

/** Options for `testContext`. */
export interface TestContextOptions {
  now?: Date;
  /** Global settings input (resolver, notify ...), parsed by the real schema. */
  global?: Record<string, unknown>;
  budgetMs?: number;
  inLambda?: boolean;
  state?: MemoryStateStore;
  secrets?: Record<string, string>;
  runId?: string;
  /** Other sections of the configuration file, as written. */
  sections?: Record<string, unknown>;
}

/** Builds a context whose `config` is `sectionInput` parsed by the job's own schema. */
export function testContext<C>(
  definition: JobDefinition<C>,
  sectionInput: unknown,
  options: TestContextOptions = {},
): JobContext<C> & { logs: CapturedLog[]; state: MemoryStateStore } {
  const logs: CapturedLog[] = [];
  const log =
    (level: CapturedLog['level']) =>
    (message: string, extra?: Record<string, unknown>): void => {
      logs.push(extra === undefined ? { level, message } : { level, message, extra });
    };
  const logger: JobLogger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
  const now = options.now ?? new Date();
  const context = localJobContext(definition, definition.schema.parse(sectionInput), {
    runId: options.runId ?? 'test-run',
    now: () => now,
    budgetMs: options.budgetMs ?? 60_000,
    logger,
    ...(options.global ? { global: options.global } : {}),
    ...(options.sections ? { sections: options.sections } : {}),
    ...(options.state ? { state: options.state } : {}),
    ...(options.inLambda === undefined ? {} : { inLambda: options.inLambda }),
    region: 'eu-west-1',
    resolveSecret: async (reference) => {
      const value = options.secrets?.[reference];
      if (value === undefined) throw new Error(`no test secret for ${reference}`);
      return value;
    },
  });
  return { ...context, logs };
}
