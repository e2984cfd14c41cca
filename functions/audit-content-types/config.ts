/** The `contentTypes` section: which buckets to audit, and whether to sniff and fix. */
import * as z from 'zod';
import { jobSectionBase } from '#shared/config/fields.ts';

/** A MIME type as stored in Content-Type: `type/subtype`, optionally with parameters. */
const mimeTypeField = z
  .string()
  .regex(
    /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*(\s*;\s*[\w!#$&^.+-]+=("[^"]*"|[\w!#$&^.+-]+))*$/,
    'expected a MIME type such as "text/css" or "text/html; charset=utf-8"',
  );

/** An S3 key glob: `*` stays inside one path segment, `**` crosses `/`. */
const globField = z
  .string()
  .min(1, 'expected a non-empty glob such as "assets/**/*.css"')
  .max(1024)
  .describe('Glob matched against the whole key: "*" within a path segment, "**" across "/"');

/** One bucket (optionally a prefix inside it) to audit. */
export const bucketTargetSchema = z
  .object({
    bucket: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'expected an S3 bucket name (3-63 lowercase letters, digits, dots or hyphens)',
      )
      .describe('Bucket name'),
    prefix: z
      .string()
      .max(1024)
      .default('')
      .describe('Only keys under this prefix (listed server-side), e.g. "static/"; "" for the whole bucket'),
    include: z
      .array(globField)
      .default([])
      .describe('Audit only keys matching one of these globs; empty means every key'),
    exclude: z.array(globField).default([]).describe('Skip keys matching any of these globs'),
  })
  .strict();

/** The validated section. */
export const contentTypesSchema = z
  .object({
    ...jobSectionBase('rate(1 day)'),
    buckets: z
      .array(bucketTargetSchema)
      .min(1, 'expected at least one bucket, e.g. [{ bucket: "my-site" }]')
      .describe('Buckets (with optional prefix and key globs) to audit'),
    fix: z
      .boolean()
      .default(false)
      .describe(
        'Rewrite wrong or missing types in place (CopyObject onto itself, every other metadata field re-sent, ETag-guarded)',
      ),
    sniff: z
      .boolean()
      .default(false)
      .describe('Also read the first 4 KiB of each object and compare its magic number with the stored type'),
    since: z
      .boolean()
      .default(false)
      .describe(
        'Audit only objects modified after the start of the last complete run (incremental daily runs)',
      ),
    types: z
      .record(
        z
          .string()
          .regex(/^\.?[A-Za-z0-9][\w.+-]*$/, 'expected a file extension such as "js" or ".webmanifest"'),
        mimeTypeField,
      )
      .default({})
      .describe(
        'Expected type per extension, overriding the built-in table, e.g. { "js": "application/javascript" }',
      ),
    maxFindings: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .describe(
        'Per-object findings kept per bucket prefix; beyond it they are counted in one finding per code (memory stays flat even for a bucket where everything is wrong)',
      ),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(32)
      .describe('S3 requests in flight at once (HEAD, ranged GET, copy)'),
  })
  .strict();

/** The validated `contentTypes` section. */
export type ContentTypesSection = z.infer<typeof contentTypesSchema>;
/** One validated bucket entry. */
export type BucketTarget = z.infer<typeof bucketTargetSchema>;
