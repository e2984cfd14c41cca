/**
 * One job's configuration for a run, without the YAML parser (Lambda bundles stay small): global
 * settings and the job's section, with invocation overrides merged in, validated by the same schema.
 */
import * as z from 'zod';
import type { JobDefinition } from '../job.ts';
import { ConfigError, formatIssues } from './errors.ts';
import { type GlobalSettings, globalShape } from './global.ts';

/**
 * Resolves one job's configuration for a run: its section from the file (or `{}` when absent),
 * with invocation overrides merged at the top of the section, validated by the job's schema.
 * Only global settings and this section are validated, so a Lambda parses what it uses.
 */
export function resolveJobConfig<C>(
  raw: Record<string, unknown>,
  job: JobDefinition<C>,
  overrides: Record<string, unknown> | undefined,
  source: string,
): { global: GlobalSettings; section: C } {
  const globalResult = z
    .object(globalShape)
    .safeParse(Object.fromEntries(Object.keys(globalShape).map((key) => [key, raw[key]])));
  const fileSection = raw[job.section];
  if (
    fileSection !== undefined &&
    (typeof fileSection !== 'object' || fileSection === null || Array.isArray(fileSection))
  ) {
    throw new ConfigError(source, [`${job.section}: expected a mapping of settings`]);
  }
  const merged = { ...(fileSection as Record<string, unknown> | undefined), ...overrides };
  const sectionResult = job.schema.safeParse(merged);
  const issues = [
    ...(globalResult.success ? [] : formatIssues(globalResult.error)),
    ...(sectionResult.success ? [] : formatIssues(sectionResult.error, [job.section])),
  ];
  if (!globalResult.success || !sectionResult.success) throw new ConfigError(source, issues);
  return { global: globalResult.data, section: sectionResult.data };
}
