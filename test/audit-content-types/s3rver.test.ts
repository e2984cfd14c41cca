/**
 * The job against a real S3-compatible server (s3rver, behind the sandbox front for CopyObject
 * conditions): listing with paging, audit verdicts, the fix keeping every metadata field,
 * awkward keys, an object replaced between HEAD and copy, resume from a checkpoint, throttling.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditBucket, CHECKPOINT_PARTITION } from '#functions/audit-content-types/audit.ts';
import { createS3Client } from '#functions/audit-content-types/client.ts';
import { definition } from '#functions/audit-content-types/job.ts';
import {
  LOCAL_CREDENTIALS,
  type LocalS3,
  PNG_PIXEL,
  seedDemoBucket,
  startLocalS3,
} from '#sandbox/audit-content-types.ts';
import type { Finding } from '#shared/findings.ts';
import type { Deadline } from '#shared/job.ts';
import { testContext } from '../support/context.ts';

let local: LocalS3;
let s3: S3Client;
let savedEnv: NodeJS.ProcessEnv = {};
let beforeCopy: ((bucket: string, key: string) => Promise<void>) | undefined;

const BUCKETS = ['paging', 'demo', 'keep', 'awkward', 'race', 'resume'];

async function put(
  bucket: string,
  key: string,
  body: string | Buffer,
  extra: Partial<PutObjectCommandInput> = {},
) {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...extra }));
}

async function body(bucket: string, key: string): Promise<string> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await response.Body?.transformToString()) ?? '';
}

function codesOf(findings: readonly Finding[], target: string): string[] {
  return findings
    .filter((finding) => finding.target === target)
    .map((finding) => finding.code)
    .sort();
}

/** A deadline that is reached after `calls` checks (the audit checks once per object it starts). */
function deadlineAfter(calls: number): Deadline {
  let left = calls;
  const controller = new AbortController();
  return {
    remainingMs: () => (left > 0 ? 60_000 : 0),
    reached: () => {
      left -= 1;
      return left < 0;
    },
    signal: controller.signal,
  };
}

beforeAll(async () => {
  local = await startLocalS3({
    buckets: BUCKETS,
    front: true,
    beforeCopy: (b, k) => beforeCopy?.(b, k) ?? Promise.resolve(),
  });
  s3 = local.client();
  // The job's own client is created on first use from these, like in Lambda.
  savedEnv = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: local.endpoint,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
  });
}, 60_000);

afterAll(async () => {
  await local?.close();
  // Leave the environment as found, should the worker process be reused.
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

describe('audit-content-types against s3rver', () => {
  it('pages through more than 1,000 objects and counts healthy ones without listing them', async () => {
    const keys = Array.from({ length: 1_050 }, (_, i) => `assets/${String(i).padStart(4, '0')}.css`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys
          .slice(i, i + 50)
          .map((key, j) =>
            put('paging', key, 'a{}', (i + j) % 100 === 0 ? {} : { ContentType: 'text/css; charset=utf-8' }),
          ),
      );
    }
    const ctx = testContext(definition, { buckets: [{ bucket: 'paging' }] });
    const outcome = await definition.run(ctx);
    expect(outcome.incomplete).toBeUndefined();
    expect(outcome.stats).toMatchObject({
      objectsListed: 1_050,
      objectsChecked: 1_050,
      objectsHealthy: 1_039,
    });
    const missing = outcome.findings.filter((finding) => finding.code === 'content-type.missing');
    expect(missing).toHaveLength(11);
    expect(missing.every((finding) => finding.severity === 'critical')).toBe(true);
    expect(outcome.findings).toHaveLength(11);
  }, 120_000);

  it('reports the typeless CSS, the JS typed text/plain and the PNG labelled JPEG', async () => {
    await seedDemoBucket(s3, 'demo');
    await put('demo', 'site/css/plain.css', 'p{}', { ContentType: 'text/css' });
    const ctx = testContext(definition, { buckets: [{ bucket: 'demo', prefix: 'site/' }], sniff: true });
    const { findings, stats } = await definition.run(ctx);
    expect(codesOf(findings, 's3://demo/site/css/main.css')).toEqual(['content-type.missing']);
    expect(codesOf(findings, 's3://demo/site/js/app.js')).toEqual(['content-type.mismatch']);
    expect(codesOf(findings, 's3://demo/site/img/logo.png')).toEqual([
      'content-type.mismatch',
      'content-type.sniff-mismatch',
    ]);
    const css = findings.find((finding) => finding.target === 's3://demo/site/css/main.css');
    expect(css?.severity).toBe('critical');
    expect(css?.message).toContain('browsers refuse a stylesheet whose type is not text/css');
    const sniffed = findings.find((finding) => finding.code === 'content-type.sniff-mismatch');
    expect(sniffed?.message).toContain('its content is PNG (image/png)');
    const charset = findings.find((finding) => finding.code === 'content-type.charset-missing');
    expect(charset).toMatchObject({ severity: 'info', target: 's3://demo/site/', data: { count: 1 } });
    expect(stats).toMatchObject({ objectsChecked: 8, objectsHealthy: 5, objectsSniffed: 8 });

    const fixRun = await definition.run(
      testContext(definition, { buckets: [{ bucket: 'demo', prefix: 'site/' }], sniff: true, fix: true }),
    );
    expect(fixRun.findings.map((finding) => `${finding.code} ${finding.target}`).sort()).toEqual([
      'content-type.charset-missing s3://demo/site/',
      'content-type.fixed s3://demo/site/css/main.css',
      'content-type.fixed s3://demo/site/img/logo.png',
      'content-type.fixed s3://demo/site/js/app.js',
    ]);
    const logo = await s3.send(new HeadObjectCommand({ Bucket: 'demo', Key: 'site/img/logo.png' }));
    expect(logo.ContentType).toBe('image/png');
    expect(logo.CacheControl).toBe('public, max-age=86400');
  });

  it('fixes the type and keeps every other metadata field, the body and the storage class', async () => {
    const expires = new Date('2030-01-01T00:00:00Z');
    await put('keep', 'static/site.css', 'body{color:red}', {
      CacheControl: 'public, max-age=600',
      ContentDisposition: 'inline; filename="site.css"',
      ContentEncoding: 'identity',
      ContentLanguage: 'en-GB',
      Expires: expires,
      WebsiteRedirectLocation: '/static/site-v2.css',
      StorageClass: 'STANDARD_IA',
      Metadata: { 'build-id': '42', owner: 'web-team' },
    });
    const before = await s3.send(new HeadObjectCommand({ Bucket: 'keep', Key: 'static/site.css' }));
    const ctx = testContext(definition, { buckets: [{ bucket: 'keep' }], fix: true });
    const { findings, stats } = await definition.run(ctx);
    expect(stats).toMatchObject({ objectsFixed: 1, objectsWithProblems: 0 });
    expect(findings).toHaveLength(1);
    const fixed = findings[0];
    expect(fixed?.code).toBe('content-type.fixed');
    expect(fixed?.severity).toBe('info');
    expect(fixed?.message).toMatch(
      /from (binary|application)\/octet-stream to text\/css, keeping .*Cache-Control.*storage class STANDARD_IA/,
    );

    const after = await s3.send(new HeadObjectCommand({ Bucket: 'keep', Key: 'static/site.css' }));
    expect(after.ContentType).toBe('text/css');
    expect(after.CacheControl).toBe(before.CacheControl);
    expect(after.ContentDisposition).toBe('inline; filename="site.css"');
    expect(after.ContentEncoding).toBe('identity');
    expect(after.ContentLanguage).toBe('en-GB');
    expect(after.Expires?.toISOString()).toBe(expires.toISOString());
    expect(after.WebsiteRedirectLocation).toBe('/static/site-v2.css');
    expect(after.StorageClass).toBe('STANDARD_IA');
    expect(after.Metadata).toEqual({ 'build-id': '42', owner: 'web-team' });
    expect(await body('keep', 'static/site.css')).toBe('body{color:red}');

    const again = await definition.run(testContext(definition, { buckets: [{ bucket: 'keep' }], fix: true }));
    // The fix does not invent a charset (the bytes might not be UTF-8); that stays an info.
    expect(again.findings.map((finding) => finding.code)).toEqual(['content-type.charset-missing']);
    expect(again.stats).toMatchObject({ objectsHealthy: 1, objectsFixed: 0 });
  });

  it('does not relabel bytes that contradict the name, and does not sniff compressed assets', async () => {
    await put('keep', 'sniff/really-a-png.css', PNG_PIXEL);
    const { gzipSync } = await import('node:zlib');
    await put('keep', 'sniff/app.js', gzipSync('export const a = 1;'), {
      ContentType: 'text/javascript',
      ContentEncoding: 'gzip',
    });
    const { findings, stats } = await definition.run(
      testContext(definition, { buckets: [{ bucket: 'keep', prefix: 'sniff/' }], sniff: true, fix: true }),
    );
    expect(codesOf(findings, 's3://keep/sniff/really-a-png.css')).toEqual([
      'content-type.fix-skipped',
      'content-type.missing',
      'content-type.sniff-mismatch',
    ]);
    expect(findings.find((finding) => finding.code === 'content-type.fix-skipped')?.data).toMatchObject({
      reason: 'sniff-disagrees',
    });
    expect(codesOf(findings, 's3://keep/sniff/app.js')).toEqual([]);
    expect(stats).toMatchObject({ objectsFixed: 0, objectsHealthy: 1 });
  });

  it('fixes keys with spaces, +, % and unicode without touching their look-alikes', async () => {
    const awkward = [
      'dir with space/a b.css',
      'plus/a+b.css',
      'percent/100%25.css',
      'ünïcødé/ファイル.css',
      "quote/it's (1).css",
    ];
    for (const key of awkward) await put('awkward', key, `/* ${key} */`);
    // If "+" were decoded as a space, the fix would copy this object over plus/a+b.css.
    await put('awkward', 'plus/a b.css', '/* the space one */', { ContentType: 'text/css; charset=utf-8' });
    const { findings, stats } = await definition.run(
      testContext(definition, { buckets: [{ bucket: 'awkward' }], fix: true }),
    );
    expect(stats).toMatchObject({ objectsFixed: awkward.length, fixesSkipped: 0, objectsFailed: 0 });
    expect(findings.map((finding) => finding.target).sort()).toEqual(
      awkward.map((key) => `s3://awkward/${key}`).sort(),
    );
    for (const key of awkward) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'awkward', Key: key }));
      expect(head.ContentType, key).toBe('text/css');
      expect(await body('awkward', key)).toBe(`/* ${key} */`);
    }
    expect(await body('awkward', 'plus/a b.css')).toBe('/* the space one */');
  });

  it('skips an object replaced between the HEAD and the copy, keeping the new bytes', async () => {
    await put('race', 'live/app.css', 'old bytes');
    beforeCopy = async (bucket, key) => {
      beforeCopy = undefined;
      // A deploy lands after the audit's HEAD: new content, still without a type.
      await put(bucket, key, 'new bytes from the deploy');
    };
    const { findings, stats } = await definition.run(
      testContext(definition, { buckets: [{ bucket: 'race' }], fix: true }),
    );
    expect(stats).toMatchObject({ objectsFixed: 0, fixesSkipped: 1 });
    expect(codesOf(findings, 's3://race/live/app.css')).toEqual([
      'content-type.fix-skipped',
      'content-type.missing',
    ]);
    const skipped = findings.find((finding) => finding.code === 'content-type.fix-skipped');
    expect(skipped?.data).toMatchObject({ reason: 'changed' });
    expect(skipped?.message).toContain('changed between the check and the copy');
    expect(await body('race', 'live/app.css')).toBe('new bytes from the deploy');
  });

  it('stops at the deadline with a checkpoint and resumes from it without gaps', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `r/${String(i).padStart(3, '0')}.js`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((key) => put('resume', key, 'x', { ContentType: 'text/plain' })),
      );
    }
    const first = testContext(definition, { buckets: [{ bucket: 'resume' }], concurrency: 4 });
    first.deadline = deadlineAfter(120);
    const partial = await definition.run(first);
    expect(partial.incomplete?.message).toMatch(
      /stopped in s3:\/\/resume\/ after "r\/\d{3}\.js"; the next run resumes there/,
    );
    const checkpoint = await first.state.get(CHECKPOINT_PARTITION, 'resume/');
    expect(checkpoint).toMatchObject({ startAfter: expect.stringMatching(/^r\/\d{3}\.js$/) });
    const { objectsChecked: checkedFirst = 0 } = partial.stats;
    expect(checkedFirst).toBeLessThan(300);

    const second = testContext(
      definition,
      { buckets: [{ bucket: 'resume' }], concurrency: 4 },
      { state: first.state },
    );
    const rest = await definition.run(second);
    expect(rest.incomplete).toBeUndefined();
    const { objectsChecked: checkedSecond = 0, bucketsResumed } = rest.stats;
    expect(bucketsResumed).toBe(1);
    const covered = new Set([...partial.findings, ...rest.findings].map((finding) => finding.target));
    expect(covered.size).toBe(300);
    // Resuming re-reads nothing before the checkpoint.
    expect(checkedFirst + checkedSecond).toBe(300);
    const done = await second.state.get(CHECKPOINT_PARTITION, 'resume/');
    expect(done).toEqual({ lastCompleteRunAt: expect.any(String) });
  });
});

describe('S3 Batch Operations handler against s3rver', () => {
  it('audits and fixes the tasks of a manifest, keys URL-encoded as Inventory writes them', async () => {
    await put('awkward', 'batch/site v2+final.css', 'b{}', { CacheControl: 'max-age=5' });
    await put('awkward', 'batch/ok.css', 'c{}', { ContentType: 'text/css; charset=utf-8' });
    const { handleBatchEvent } = await import('#functions/audit-content-types/batch-handler.ts');
    const { createDeadline } = await import('#shared/deadline.ts');
    const response = await handleBatchEvent(
      {
        invocationSchemaVersion: '2.0',
        invocationId: 'inv',
        job: { id: 'job', userArguments: { fix: 'true' } },
        tasks: [
          { taskId: 'a', s3Key: 'batch/site+v2%2Bfinal.css', s3VersionId: null, s3Bucket: 'awkward' },
          { taskId: 'b', s3Key: 'batch/ok.css', s3VersionId: null, s3Bucket: 'awkward' },
          { taskId: 'c', s3Key: 'batch/missing.css', s3VersionId: null, s3Bucket: 'awkward' },
        ],
      },
      s3,
      createDeadline(60_000),
      { info: () => undefined, warn: () => undefined },
    );
    expect(response.results.map((result) => [result.taskId, result.resultCode])).toEqual([
      ['a', 'Succeeded'],
      ['b', 'Succeeded'],
      ['c', 'PermanentFailure'],
    ]);
    expect(response.results[0]?.resultString).toMatch(/^content-type\.fixed: Changed the Content-Type/);
    const fixed = await s3.send(new HeadObjectCommand({ Bucket: 'awkward', Key: 'batch/site v2+final.css' }));
    expect(fixed.ContentType).toBe('text/css');
    expect(fixed.CacheControl).toBe('max-age=5');
  });
});

describe('throttling', () => {
  it("retries four 503 SlowDowns in a row with the job's own client and completes the audit", async () => {
    // Four in a row: the SDK's default three attempts would give up; the job's client takes five.
    const throttled = await startLocalS3({ buckets: ['slow'], slowDownFirst: 4 });
    const saved = process.env['AWS_ENDPOINT_URL_S3'];
    try {
      // Seeding bypasses the front, so the SlowDowns hit the audit's requests.
      const direct = new S3Client({
        endpoint: throttled.directEndpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: LOCAL_CREDENTIALS,
      });
      await direct.send(
        new PutObjectCommand({ Bucket: 'slow', Key: 'a.png', Body: PNG_PIXEL, ContentType: 'image/png' }),
      );
      direct.destroy();
      Object.assign(process.env, { AWS_ENDPOINT_URL_S3: throttled.endpoint });
      const client = createS3Client(8);
      const ctx = testContext(definition, { buckets: [{ bucket: 'slow' }] });
      const target = ctx.config.buckets[0] ?? { bucket: 'slow', prefix: '', include: [], exclude: [] };
      const outcome = await auditBucket(client, target, ctx.config, ctx);
      client.destroy();
      expect(outcome.complete).toBe(true);
      expect(outcome.stats).toMatchObject({ objectsHealthy: 1, objectsFailed: 0 });
      const { GET: gets = 0 } = throttled.requests;
      expect(gets).toBeGreaterThanOrEqual(5);
    } finally {
      if (saved === undefined) delete process.env['AWS_ENDPOINT_URL_S3'];
      else Object.assign(process.env, { AWS_ENDPOINT_URL_S3: saved });
      await throttled.close();
    }
  });
});
