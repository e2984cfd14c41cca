import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { jobs } from '#functions/registry.ts';
import { jobSectionBase, parseDnsServer, resolverField } from '#shared/config/fields.ts';
import {
  applySetOverrides,
  ConfigError,
  configJsonSchema,
  parseConfigText,
  resolveJobConfig,
  validateConfig,
} from '#shared/config/load.ts';
import type { JobDefinition } from '#shared/job.ts';

const demoJob: JobDefinition<{ schedule: string | false; endpoints: Array<{ host: string; port: number }> }> =
  {
    name: 'check-demo',
    section: 'demo',
    description: 'demo',
    runsLocally: true,
    schema: z
      .object({
        ...jobSectionBase('rate(1 day)'),
        endpoints: z
          .array(
            z.object({ host: z.string(), port: z.number().int().min(1).max(65535).default(443) }).strict(),
          )
          .default([]),
      })
      .strict(),
    run: async () => ({ findings: [], stats: {} }),
  };

function issuesOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('names the field path and what was expected', () => {
    const raw = parseConfigText('demo:\n  endpoints:\n    - host: a.example\n      port: "443"\n', 'w.yml');
    expect(issuesOf(() => validateConfig(raw, [demoJob], 'w.yml'))).toEqual([
      'demo.endpoints[0].port: Invalid input: expected number, received string',
    ]);
  });

  it('rejects unknown fields and unknown sections instead of ignoring them', () => {
    const raw = parseConfigText('demo:\n  endpoint: []\ncertificatez: {}\n', 'w.yml');
    expect(issuesOf(() => validateConfig(raw, [demoJob], 'w.yml'))).toEqual([
      'demo: unknown field "endpoint"',
      'top level: unknown field "certificatez"',
    ]);
  });

  it('reports YAML syntax errors and duplicate keys', () => {
    expect(issuesOf(() => parseConfigText('demo:\n  endpoints: [\n', 'w.yml'))[0]).toMatch(
      /Flow sequence|flow collection|end/i,
    );
    expect(issuesOf(() => parseConfigText('demo: {}\ndemo: {}\n', 'w.yml'))[0]).toMatch(/unique/i);
  });

  it('validates schedules as EventBridge expressions', () => {
    const raw = parseConfigText('demo:\n  schedule: every day\n', 'w.yml');
    expect(issuesOf(() => validateConfig(raw, [demoJob], 'w.yml'))[0]).toMatch(
      /^demo\.schedule: .*rate\(1 day\)/,
    );
    expect(
      validateConfig(parseConfigText('demo:\n  schedule: false\n', 'w'), [demoJob], 'w').sections['demo'],
    ).toMatchObject({
      schedule: false,
    });
  });

  it('applies --set overrides as YAML values at dotted paths', () => {
    const raw = applySetOverrides({ demo: { endpoints: [] } }, [
      'demo.endpoints=[{host: x.example}]',
      'notify.mode=always',
    ]);
    const loaded = validateConfig(raw, [demoJob], 'cli');
    expect(loaded.sections['demo']).toEqual({
      schedule: 'rate(1 day)',
      endpoints: [{ host: 'x.example', port: 443 }],
    });
    expect(loaded.global.notify.mode).toBe('always');
    expect(() => applySetOverrides({}, ['novalue'])).toThrow(/path=value/);
    expect(() => applySetOverrides({}, ['__proto__.polluted=1'])).toThrow(/dotted field path/);
  });

  it('merges invocation overrides into the section and validates them with the same schema', () => {
    const raw = { demo: { endpoints: [{ host: 'a.example' }] } };
    const { section } = resolveJobConfig(
      raw,
      demoJob,
      { endpoints: [{ host: 'b.example', port: 8443 }] },
      'event',
    );
    expect(section.endpoints).toEqual([{ host: 'b.example', port: 8443 }]);
    expect(
      issuesOf(() => resolveJobConfig(raw, demoJob, { endpoints: [{ hostname: 'x' }] }, 'event')),
    ).toEqual([
      'demo.endpoints[0].host: Invalid input: expected string, received undefined',
      'demo.endpoints[0]: unknown field "hostname"',
    ]);
  });

  it('exports a JSON Schema with every job section for editors', () => {
    const schema = configJsonSchema(jobs) as { properties: Record<string, unknown> };
    for (const job of jobs) expect(Object.keys(schema.properties)).toContain(job.section);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['notify', 'resolver', 'region']));
  });

  it('parses DNS servers with ports and rejects host names', () => {
    expect(parseDnsServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseDnsServer('[::1]:53')).toEqual({ host: '::1', port: 53 });
    expect(parseDnsServer('::1')).toEqual({ host: '::1', port: 53 });
    expect(parseDnsServer('dns.example:53')).toBeUndefined();
    expect(resolverField.safeParse('127.0.0.1:99999').success).toBe(false);
  });
});

describe('the repository watchkeeper.yml', () => {
  it('is valid', async () => {
    const { readConfigFile } = await import('#shared/config/load.ts');
    const loaded = validateConfig(await readConfigFile('watchkeeper.yml'), jobs, 'watchkeeper.yml');
    expect(loaded.present.length).toBeGreaterThan(0);
  });
});

describe('the sample invocation events in events/', () => {
  it.each(jobs.map((job) => job.name))('events/%s.json is a valid override of its section', async (name) => {
    const { readFile } = await import('node:fs/promises');
    const { readConfigFile } = await import('#shared/config/load.ts');
    const job = jobs.find((candidate) => candidate.name === name);
    if (!job) throw new Error(`no job ${name}`);
    const event = JSON.parse(await readFile(`events/${name}.json`, 'utf8')) as Record<string, unknown>;
    const raw = await readConfigFile('watchkeeper.yml');
    expect(() => resolveJobConfig(raw, job, event, `events/${name}.json`)).not.toThrow();
  });
});
