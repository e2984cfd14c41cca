/**
 * Loading watchkeeper.yml: YAML parsing, one zod schema for the whole file (global settings plus
 * each job's section), overrides from the command line and from invocation events, and error
 * messages that name the field path and what was expected.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument, parse as parseYaml } from 'yaml';
import type { ZodType } from 'zod';
import * as z from 'zod';
import type { AnyJobDefinition } from '../job.ts';
import { ConfigError, formatIssues, UsageError } from './errors.ts';
import { type GlobalSettings, globalShape } from './global.ts';

export { ConfigError, UsageError } from './errors.ts';
export { resolveJobConfig } from './resolve.ts';

/** A validated configuration: global settings and the parsed sections that were present. */
export interface LoadedConfig {
  global: GlobalSettings;
  /** Parsed sections by section key; absent sections are missing here. */
  sections: Record<string, unknown>;
  /** Section keys present in the file (the jobs whose schedules are enabled by default). */
  present: string[];
}

/** The schema of the whole file for the given jobs (unknown top-level keys are errors). */
export function configSchema(jobs: readonly AnyJobDefinition[]) {
  const sections: Record<string, z.ZodOptional<ZodType>> = {};
  for (const job of jobs) sections[job.section] = (job.schema as ZodType).optional();
  return z.object({ ...globalShape, ...sections }).strict();
}

/** JSON Schema of watchkeeper.yml for editors (yaml-language-server, VS Code). */
export function configJsonSchema(jobs: readonly AnyJobDefinition[]): Record<string, unknown> {
  return {
    $id: 'https://watchkeeper.dev/schema/watchkeeper.json',
    title: 'watchkeeper.yml',
    ...z.toJSONSchema(configSchema(jobs), { io: 'input', unrepresentable: 'any' }),
  };
}

/** Parses YAML text into a plain object; syntax errors name the line. */
export function parseConfigText(text: string, source: string): Record<string, unknown> {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((error) => error.message.split('\n')[0] ?? error.message),
    );
  }
  const value: unknown = document.toJS() ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(source, ['(top level): expected a mapping of settings and job sections']);
  }
  return value as Record<string, unknown>;
}

/** Reads and parses a YAML file. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigError(path, [`(file): ${reason}`]);
  }
  return parseConfigText(text, path);
}

/**
 * Applies `path=value` assignments (`certificates.warnDays=30`, `notify.mode=always`) to a raw
 * config object. Values are read as YAML, so `30`, `true`, `[a, b]` and `{host: x}` work.
 */
export function applySetOverrides(
  raw: Record<string, unknown>,
  assignments: readonly string[],
): Record<string, unknown> {
  const result = structuredClone(raw);
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new UsageError(`--set expects path=value, got "${assignment}"`);
    const path = assignment.slice(0, equals).split('.');
    if (
      path.some(
        (part) => part === '' || part === '__proto__' || part === 'constructor' || part === 'prototype',
      )
    ) {
      throw new UsageError(`--set path "${assignment.slice(0, equals)}" is not a dotted field path`);
    }
    const value: unknown = parseYaml(assignment.slice(equals + 1));
    let cursor: Record<string, unknown> = result;
    for (const part of path.slice(0, -1)) {
      const next = cursor[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) cursor[part] = {};
      cursor = cursor[part] as Record<string, unknown>;
    }
    cursor[path.at(-1) as string] = value;
  }
  return result;
}

/** Validates a whole raw config; throws ConfigError naming every bad field. */
export function validateConfig(
  raw: Record<string, unknown>,
  jobs: readonly AnyJobDefinition[],
  source: string,
): LoadedConfig {
  const result = configSchema(jobs).safeParse(raw);
  if (!result.success) throw new ConfigError(source, formatIssues(result.error));
  const parsed = result.data as Record<string, unknown>;
  const sections: Record<string, unknown> = {};
  const present: string[] = [];
  for (const job of jobs) {
    if (parsed[job.section] !== undefined) {
      sections[job.section] = parsed[job.section];
      present.push(job.section);
    }
  }
  const global = z
    .object(globalShape)
    .parse(Object.fromEntries(Object.keys(globalShape).map((key) => [key, raw[key]])));
  return { global, sections, present };
}
