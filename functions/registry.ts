/**
 * Every job watchkeeper has, for the CLI (`list`, `run`, `validate`), the configuration schema and
 * the deploy template. Handlers import only their own job, so their bundles stay small.
 */
import type { JobDefinition } from '#shared/job.ts';

/** All jobs, in the order `watchkeeper list` prints them. Add one line per job. */
export const jobs: readonly JobDefinition<never>[] = [] as unknown as readonly JobDefinition<never>[];
