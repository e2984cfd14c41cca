import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { jobs } from '#functions/registry.ts';
import { configJsonSchema } from '#shared/config/load.ts';

describe('docs/schema/watchkeeper.schema.json', () => {
  it('matches the zod schema (regenerate with: npx watchkeeper schema > docs/schema/watchkeeper.schema.json)', async () => {
    const committed = JSON.parse(await readFile('docs/schema/watchkeeper.schema.json', 'utf8')) as unknown;
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema(jobs))));
  });
});
