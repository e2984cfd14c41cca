/**
 * Loading watchkeeper.yml: YAML parsing, one zod schema for the whole file (global settings plus
 * each job's section), overrides from the command line and from invocation events, and error
 * messages that name the field path and what was expected.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument, parse as parseYaml } from 'yaml';
import { type ZodType, z } from 'zod';
import type { AnyJobDefinition, JobDefinition } from '../job.ts';
import { type GlobalSettings, globalShape } from './global.ts';

/** Configuration that failed validation; `issues` are `path: expected ...` lines. */
export class ConfigError extends Error {
  readonly issues: string[];
  constructor(source: string, issues: string[]) {
    super(`${source} is invalid:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

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

/** Formats zod issues as `path: message` lines (`certificates.endpoints[2].port: expected number`). */
export function formatIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): string[] {
  return error.issues.map((issue) => {
    const path = formatPath([...prefix, ...issue.path]);
    if (issue.code === 'unrecognized_keys') {
      const where = path === '' ? 'top level' : path;
      return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
    }
    return `${path === '' ? '(top level)' : path}: ${issue.message}`;
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text;
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

/** A command-line usage error (exit status 64). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
