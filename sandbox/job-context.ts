/**
 * A JobContext for running a job's logic directly on this machine (benchmarks, tests): default
 * global settings, an in-memory state store, a quiet logger, no secrets, not in Lambda.
 */
import * as z from 'zod';
import { globalShape } from '#shared/config/global.ts';
import { createDeadline } from '#shared/deadline.ts';
import type { JobContext, JobDefinition, JobLogger } from '#shared/job.ts';
import { MemoryStateStore } from '#shared/state/memory.ts';

/** Overrides for `localJobContext`. */
export interface LocalContextOptions {
  runId?: string;
  now?: () => Date;
  /** Global settings input (resolver, notify ...), parsed by the real schema. */
  global?: Record<string, unknown>;
  /** Other sections of the configuration file, as written. */
  sections?: Record<string, unknown>;
  budgetMs?: number;
  logger?: JobLogger;
  state?: MemoryStateStore;
  resolveSecret?: (reference: string) => Promise<string>;
  inLambda?: boolean;
  region?: string;
}

/** A logger that drops everything. */
export const quietLogger: JobLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A context around an already validated section `config`. */
export function localJobContext<C>(
  definition: Pick<JobDefinition<C>, 'name'>,
  config: C,
  options: LocalContextOptions = {},
): JobContext<C> & { state: MemoryStateStore } {
  const now = options.now ?? (() => new Date());
  return {
    job: definition.name,
    runId: options.runId ?? 'local',
    config,
    global: z.object(globalShape).parse(options.global ?? {}),
    sections: options.sections ?? {},
    now,
    deadline: createDeadline(options.budgetMs ?? 600_000),
    logger: options.logger ?? quietLogger,
    state: options.state ?? new MemoryStateStore(() => now().getTime()),
    resolveSecret:
      options.resolveSecret ??
      (async (reference) => {
        throw new Error(`no secret ${reference} here: pass resolveSecret`);
      }),
    runtime: { inLambda: options.inLambda ?? false, region: options.region },
  };
}
