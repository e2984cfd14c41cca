/**
 * What s3rver does not model — SSE-KMS, storage classes and archive tiers, versioning, ACL
 * grants, objects over 5 GB, SlowDown after retries, access errors — through aws-sdk-client-mock.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectAclCommand,
  type GetObjectAclCommandOutput,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_PARTITION } from '#functions/audit-content-types/audit.ts';
import { definition } from '#functions/audit-content-types/job.ts';
import { MemoryStateStore } from '#shared/state/memory.ts';
import sampleEvent from '../../events/audit-content-types.json' with { type: 'json' };
import { testContext } from '../support/context.ts';

// Mocked clients never send, but constructing one wants a region.
Object.assign(process.env, { AWS_REGION: 'eu-west-1' });
const s3 = mockClient(S3Client);

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

function list(keys: Array<{ key: string; lastModified?: Date; size?: number }>): void {
  s3.on(ListObjectsV2Command).resolves({
    IsTruncated: false,
    Contents: keys.map(({ key, lastModified, size }) => ({
      Key: key,
      Size: size ?? 10,
      LastModified: lastModified ?? new Date('2026-01-01T00:00:00Z'),
    })),
  });
}

function headOf(key: string, output: Partial<HeadObjectCommandOutput>): void {
  s3.on(HeadObjectCommand, { Key: key }).resolves({
    ETag: '"e1"',
    ContentLength: 10,
    ContentType: 'binary/octet-stream',
    ...output,
  });
}

const privateAcl: Partial<GetObjectAclCommandOutput> = {
  Owner: { ID: 'me' },
  Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'me' }, Permission: 'FULL_CONTROL' }],
};

async function run(section: Record<string, unknown>, state?: MemoryStateStore, budgetMs = 900_000) {
  const ctx = testContext(
    definition,
    { buckets: [{ bucket: 'site' }], ...section },
    { budgetMs, ...(state ? { state } : {}) },
  );
  return { ctx, outcome: await definition.run(ctx) };
}

function copies() {
  return s3.commandCalls(CopyObjectCommand).map((call) => call.args[0].input);
}

beforeEach(() => {
  s3.reset();
  s3.on(GetObjectAclCommand).resolves(privateAcl);
  s3.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"e2"' } });
});

describe('fixing what s3rver cannot model', () => {
  it('keeps SSE-KMS with the same key and the bucket key', async () => {
    list([{ key: 'a.css' }]);
    headOf('a.css', {
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234',
      BucketKeyEnabled: true,
    });
    const { outcome } = await run({ fix: true });
    expect(copies()).toEqual([
      expect.objectContaining({
        CopySource: 'site/a.css',
        CopySourceIfMatch: '"e1"',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234',
        BucketKeyEnabled: true,
        ContentType: 'text/css',
      }),
    ]);
    expect(outcome.findings[0]?.message).toContain('SSE-KMS with the same key');
  });

  it('keeps STANDARD_IA and skips Glacier and archived Intelligent-Tiering objects', async () => {
    list([{ key: 'ia.css' }, { key: 'cold.css' }, { key: 'tiered.css' }]);
    headOf('ia.css', { StorageClass: 'STANDARD_IA' });
    headOf('cold.css', { StorageClass: 'GLACIER' });
    headOf('tiered.css', { StorageClass: 'INTELLIGENT_TIERING', ArchiveStatus: 'DEEP_ARCHIVE_ACCESS' });
    const { outcome } = await run({ fix: true });
    expect(copies().map((input) => [input.Key, input.StorageClass])).toEqual([['ia.css', 'STANDARD_IA']]);
    const skipped = outcome.findings.filter((finding) => finding.code === 'content-type.fix-skipped');
    expect(skipped.map((finding) => finding.target).sort()).toEqual([
      's3://site/cold.css',
      's3://site/tiered.css',
    ]);
    for (const finding of skipped) expect(finding.data).toMatchObject({ reason: 'archived' });
    expect(skipped.find((finding) => finding.target === 's3://site/cold.css')?.message).toContain(
      'must be restored',
    );
    // The problem itself is still reported next to the skip.
    expect(outcome.findings.filter((finding) => finding.code === 'content-type.missing')).toHaveLength(2);
  });

  it('copies the exact version on a versioned bucket, URL-encoded', async () => {
    list([{ key: 'dir/a b+c.js' }]);
    headOf('dir/a b+c.js', { VersionId: 'Xy/z+1', ContentType: 'text/plain' });
    await run({ fix: true });
    expect(copies()[0]).toMatchObject({
      CopySource: 'site/dir/a%20b%2Bc.js?versionId=Xy%2Fz%2B1',
      ContentType: 'text/javascript',
    });
    expect(s3.commandCalls(GetObjectAclCommand)[0]?.args[0].input).toMatchObject({ VersionId: 'Xy/z+1' });
  });

  it('carries public-read grants over so a public object does not become private', async () => {
    list([{ key: 'pub.css' }]);
    headOf('pub.css', {});
    s3.on(GetObjectAclCommand).resolves({
      Owner: { ID: 'me' },
      Grants: [
        { Grantee: { Type: 'CanonicalUser', ID: 'me' }, Permission: 'FULL_CONTROL' },
        {
          Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
          Permission: 'READ',
        },
      ],
    });
    const { outcome } = await run({ fix: true });
    expect(copies()[0]).toMatchObject({
      GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
      GrantFullControl: 'id="me"',
    });
    expect(outcome.findings[0]?.message).toContain('ACL grants');
  });

  it('skips when the ACL cannot be read, and proceeds on buckets with ACLs disabled', async () => {
    list([{ key: 'denied.css' }, { key: 'enforced.css' }]);
    headOf('denied.css', {});
    headOf('enforced.css', {});
    s3.on(GetObjectAclCommand, { Key: 'denied.css' }).rejects(s3Error('AccessDenied', 403));
    s3.on(GetObjectAclCommand, { Key: 'enforced.css' }).rejects(
      s3Error('AccessControlListNotSupported', 400),
    );
    const { outcome } = await run({ fix: true });
    expect(copies().map((input) => input.Key)).toEqual(['enforced.css']);
    const skipped = outcome.findings.find((finding) => finding.code === 'content-type.fix-skipped');
    expect(skipped).toMatchObject({ target: 's3://site/denied.css', data: { reason: 'acl-unreadable' } });
    expect(skipped?.message).toContain('could make a public object private');
  });

  it('fixes an object over 5 GB with a guarded multipart copy that keeps metadata and tags', async () => {
    const size = 6 * 1024 ** 3;
    list([{ key: 'huge.js', size }]);
    headOf('huge.js', {
      ContentLength: size,
      ContentType: 'text/plain',
      ETag: '"big-7"',
      CacheControl: 'max-age=60',
      Metadata: { build: '9' },
      StorageClass: 'STANDARD_IA',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
      TagCount: 2,
    });
    s3.on(GetObjectTaggingCommand).resolves({
      TagSet: [
        { Key: 'team', Value: 'web ops' },
        { Key: 'tier', Value: '1' },
      ],
    });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    s3.on(UploadPartCopyCommand).callsFake(async (input: { PartNumber?: number }) => ({
      CopyPartResult: { ETag: `"p${input.PartNumber}"` },
    }));
    s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"new-12"' });
    const { outcome } = await run({ fix: true });

    expect(copies()).toEqual([]);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toEqual({
      Bucket: 'site',
      Key: 'huge.js',
      ContentType: 'text/javascript',
      CacheControl: 'max-age=60',
      Metadata: { build: '9' },
      StorageClass: 'STANDARD_IA',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
      Tagging: 'team=web%20ops&tier=1',
    });
    const parts = s3.commandCalls(UploadPartCopyCommand).map((call) => call.args[0].input);
    expect(parts).toHaveLength(12);
    expect(
      parts.every((part) => part.CopySourceIfMatch === '"big-7"' && part.CopySource === 'site/huge.js'),
    ).toBe(true);
    expect(parts.map((part) => part.CopySourceRange).at(-1)).toBe(
      `bytes=${11 * 512 * 1024 ** 2}-${size - 1}`,
    );
    const complete = s3.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input;
    expect(complete).toMatchObject({ UploadId: 'up-1', IfMatch: '"big-7"' });
    expect(complete?.MultipartUpload?.Parts?.map((part) => part.PartNumber)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    expect(outcome.findings).toEqual([
      expect.objectContaining({
        code: 'content-type.fixed',
        data: expect.objectContaining({ parts: 12, etag: '"new-12"' }),
      }),
    ]);
  });

  it('does not start a multipart copy the run has no time to finish', async () => {
    const size = 100 * 1024 ** 3;
    list([{ key: 'video.css', size }]);
    headOf('video.css', { ContentLength: size, ETag: '"v1"' });
    const { outcome } = await run({ fix: true }, undefined, 120_000);
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
    const skipped = outcome.findings.find((finding) => finding.code === 'content-type.fix-skipped');
    expect(skipped?.data).toMatchObject({ reason: 'not-enough-time' });
    expect(skipped?.message).toContain('200 parts');
  });

  it('aborts the multipart copy and skips when the object changes midway', async () => {
    const size = 6 * 1024 ** 3;
    list([{ key: 'huge.css', size }]);
    headOf('huge.css', { ContentLength: size, ETag: '"v1"' });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    s3.on(UploadPartCopyCommand, { PartNumber: 5 }).rejects(s3Error('PreconditionFailed', 412));
    s3.on(AbortMultipartUploadCommand).resolves({});
    const { outcome } = await run({ fix: true });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      UploadId: 'up-2',
      Key: 'huge.css',
    });
    expect(
      outcome.findings.find((finding) => finding.code === 'content-type.fix-skipped')?.data,
    ).toMatchObject({
      reason: 'changed',
    });
  });

  it('reports a copy that S3 refuses as skipped, not as a crash', async () => {
    list([{ key: 'a.css' }]);
    headOf('a.css', {});
    s3.on(CopyObjectCommand).rejects(s3Error('AccessDenied', 403));
    const { outcome } = await run({ fix: true });
    expect(
      outcome.findings.find((finding) => finding.code === 'content-type.fix-skipped')?.data,
    ).toMatchObject({
      reason: 'copy-failed',
      error: 'AccessDenied',
    });
  });
});

describe('failures and increments', () => {
  it('turns SlowDown that outlasted the retries into one unknown finding, not a crash', async () => {
    list([{ key: 'a.css' }, { key: 'b.css' }, { key: 'c.css' }]);
    headOf('a.css', { ContentType: 'text/css; charset=utf-8' });
    s3.on(HeadObjectCommand, { Key: 'b.css' }).rejects(s3Error('SlowDown', 503));
    s3.on(HeadObjectCommand, { Key: 'c.css' }).rejects(s3Error('SlowDown', 503));
    const { outcome } = await run({});
    expect(outcome.stats).toMatchObject({ objectsHealthy: 1, objectsFailed: 2 });
    expect(outcome.findings).toEqual([
      expect.objectContaining({
        code: 'content-type.check-failed',
        severity: 'unknown',
        target: 's3://site/',
        data: expect.objectContaining({ count: 2, errors: { SlowDown: 2 } }),
      }),
    ]);
  });

  it('reports a bucket it cannot list as unknown and still audits the next one', async () => {
    s3.on(ListObjectsV2Command, { Bucket: 'locked' }).rejects(s3Error('AccessDenied', 403));
    s3.on(ListObjectsV2Command, { Bucket: 'site' }).resolves({ Contents: [{ Key: 'x.css', Size: 1 }] });
    headOf('x.css', { ContentType: 'text/css; charset=utf-8' });
    const ctx = testContext(definition, { buckets: [{ bucket: 'locked' }, { bucket: 'site' }] });
    const outcome = await definition.run(ctx);
    expect(outcome.findings).toEqual([
      expect.objectContaining({
        code: 'content-type.check-failed',
        severity: 'unknown',
        target: 's3://locked/',
      }),
    ]);
    expect(outcome.findings[0]?.message).toBe(
      'Could not list s3://locked/ (AccessDenied), so its Content-Types were not checked.',
    );
    expect(outcome.stats).toMatchObject({ objectsHealthy: 1, bucketsFailed: 1 });
  });

  it('with since, HEADs only what changed after the last complete run', async () => {
    const state = new MemoryStateStore();
    await state.put(CHECKPOINT_PARTITION, 'site/', { lastCompleteRunAt: '2026-06-01T00:00:00.000Z' });
    list([
      { key: 'old.css', lastModified: new Date('2026-05-01T00:00:00Z') },
      { key: 'new.css', lastModified: new Date('2026-06-02T00:00:00Z') },
    ]);
    headOf('old.css', {});
    headOf('new.css', {});
    const { outcome, ctx } = await run({ since: true }, state);
    expect(s3.commandCalls(HeadObjectCommand).map((call) => call.args[0].input.Key)).toEqual(['new.css']);
    expect(outcome.stats).toMatchObject({ objectsUnchanged: 1, objectsChecked: 1 });
    expect(await ctx.state.get(CHECKPOINT_PARTITION, 'site/')).toEqual({
      lastCompleteRunAt: ctx.now().toISOString(),
    });
  });

  it('without since, audits everything even after a complete run', async () => {
    const state = new MemoryStateStore();
    await state.put(CHECKPOINT_PARTITION, 'site/', { lastCompleteRunAt: '2026-06-01T00:00:00.000Z' });
    list([{ key: 'old.css', lastModified: new Date('2026-05-01T00:00:00Z') }]);
    headOf('old.css', {});
    const { outcome } = await run({}, state);
    expect(outcome.stats).toMatchObject({ objectsUnchanged: 0, objectsChecked: 1, objectsWithProblems: 1 });
  });

  it('pages with continuation tokens and writes checkpoints along the way', async () => {
    const keys = Array.from({ length: 2_500 }, (_, i) => `k/${String(i).padStart(4, '0')}.png`);
    const page = (from: number) => ({
      IsTruncated: from + 1000 < keys.length,
      ...(from + 1000 < keys.length ? { NextContinuationToken: `t${from + 1000}` } : {}),
      Contents: keys.slice(from, from + 1000).map((Key) => ({ Key, Size: 1 })),
    });
    s3.on(ListObjectsV2Command).callsFake(async (input: { ContinuationToken?: string }) =>
      page(input.ContinuationToken === undefined ? 0 : Number(input.ContinuationToken.slice(1))),
    );
    s3.on(HeadObjectCommand).resolves({ ContentType: 'image/png', ETag: '"p"' });
    const state = new MemoryStateStore();
    const written: unknown[] = [];
    const put = state.put.bind(state);
    state.put = async (partition, key, value, options) => {
      written.push(value);
      await put(partition, key, value, options);
    };
    const { outcome } = await run({ concurrency: 16 }, state);
    expect(outcome.stats).toMatchObject({ objectsListed: 2_500, objectsHealthy: 2_500 });
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.ContinuationToken)).toEqual(
      [undefined, 't1000', 't2000'],
    );
    // Progress checkpoints while running, then the completed cycle.
    expect(
      written.filter((value) => typeof (value as { startAfter?: unknown }).startAfter === 'string'),
    ).toHaveLength(2);
    expect(written.at(-1)).toEqual({ lastCompleteRunAt: expect.any(String) });
  });

  it('starts a cut-short cycle over on directory buckets, which take no StartAfter', async () => {
    const bucket = 'assets--euw1-az1--x-s3';
    s3.on(ListObjectsV2Command).resolves({
      Contents: Array.from({ length: 20 }, (_, i) => ({ Key: `z${20 - i}.css`, Size: 1 })),
    });
    s3.on(HeadObjectCommand).resolves({ ContentType: 'text/css; charset=utf-8', ETag: '"d"' });
    const first = testContext(definition, { buckets: [{ bucket }], concurrency: 2 });
    let checks = 0;
    first.deadline = {
      remainingMs: () => 60_000,
      reached: () => ++checks > 5,
      signal: new AbortController().signal,
    };
    const partial = await definition.run(first);
    expect(partial.incomplete).toBeDefined();
    expect(await first.state.get(CHECKPOINT_PARTITION, `${bucket}/`)).not.toHaveProperty('startAfter');
    await definition.run(testContext(definition, { buckets: [{ bucket }] }, { state: first.state }));
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.StartAfter)).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('fixes in a directory bucket without ACLs or a tagging directive, and asks IAM for a session', async () => {
    const bucket = 'assets--euw1-az1--x-s3';
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'a.css', Size: 1 }] });
    s3.on(HeadObjectCommand).resolves({
      ContentType: 'binary/octet-stream',
      ETag: '"d"',
      StorageClass: 'EXPRESS_ONEZONE',
    });
    await definition.run(testContext(definition, { buckets: [{ bucket }], fix: true }));
    expect(s3.commandCalls(GetObjectAclCommand)).toHaveLength(0);
    expect(copies()[0]).toMatchObject({ ContentType: 'text/css', StorageClass: 'EXPRESS_ONEZONE' });
    expect(copies()[0]).not.toHaveProperty('TaggingDirective');
    const iam = definition.permissions?.(definition.schema.parse({ buckets: [{ bucket }] })) ?? [];
    expect(iam).toContainEqual({
      actions: ['s3express:CreateSession'],
      resources: [`arn:aws:s3express:\${AWS::Region}:\${AWS::AccountId}:bucket/${bucket}`],
    });
  });

  it('names the buckets it did not reach when the deadline comes first', async () => {
    list([{ key: 'a.css' }]);
    headOf('a.css', { ContentType: 'text/css; charset=utf-8' });
    const ctx = testContext(definition, { buckets: [{ bucket: 'site' }, { bucket: 'later', prefix: 'x/' }] });
    let checks = 0;
    ctx.deadline = {
      remainingMs: () => 0,
      reached: () => ++checks > 2,
      signal: new AbortController().signal,
    };
    const outcome = await definition.run(ctx);
    expect(outcome.incomplete?.message).toBe(
      'The Content-Type audit did not reach s3://later/x/; the next run resumes there.',
    );
    expect(outcome.stats).toMatchObject({ objectsHealthy: 1, bucketsComplete: 1 });
  });

  it('keeps at most maxFindings per prefix and counts the rest in one finding per code', async () => {
    list(Array.from({ length: 30 }, (_, i) => ({ key: `${String(i).padStart(2, '0')}.css` })));
    s3.on(HeadObjectCommand).resolves({ ContentType: 'binary/octet-stream', ETag: '"x"' });
    const { outcome } = await run({ maxFindings: 10 });
    const perObject = outcome.findings.filter((finding) => finding.target !== 's3://site/');
    expect(perObject).toHaveLength(10);
    expect(outcome.findings.filter((finding) => finding.target === 's3://site/')).toEqual([
      expect.objectContaining({
        code: 'content-type.missing',
        severity: 'critical',
        data: expect.objectContaining({ count: 20 }),
      }),
    ]);
    expect(outcome.stats).toMatchObject({ objectsWithProblems: 30 });
  });

  it('judges pre-compressed assets by the file inside when served with their Content-Encoding', async () => {
    list([{ key: 'ok.js.gz' }, { key: 'wrong.css.gz' }, { key: 'backup.tar.gz' }]);
    headOf('ok.js.gz', { ContentType: 'text/javascript; charset=utf-8', ContentEncoding: 'gzip' });
    headOf('wrong.css.gz', { ContentType: 'application/gzip', ContentEncoding: 'gzip' });
    headOf('backup.tar.gz', { ContentType: 'application/gzip' });
    const { outcome } = await run({});
    expect(outcome.findings).toEqual([
      expect.objectContaining({
        code: 'content-type.mismatch',
        target: 's3://site/wrong.css.gz',
        severity: 'critical',
        data: expect.objectContaining({ expected: 'text/css' }),
      }),
    ]);
    expect(outcome.stats).toMatchObject({ objectsHealthy: 2 });
  });

  it('applies include and exclude globs before spending a HEAD', async () => {
    list([
      { key: 'static/a.css' },
      { key: 'static/vendor/b.css' },
      { key: 'uploads/c.css' },
      { key: 'static/' },
    ]);
    headOf('static/a.css', {});
    await run({ buckets: [{ bucket: 'site', include: ['static/**'], exclude: ['**/vendor/**'] }] });
    expect(s3.commandCalls(HeadObjectCommand).map((call) => call.args[0].input.Key)).toEqual([
      'static/a.css',
    ]);
  });

  it('asks IAM for the copy permissions only when fix is on', () => {
    const audit =
      definition.permissions?.(
        definition.schema.parse({ buckets: [{ bucket: 'site', prefix: 'static/' }] }),
      ) ?? [];
    expect(audit.flatMap((statement) => statement.actions)).toEqual([
      's3:ListBucket',
      's3:GetObject',
      's3:GetObjectVersion',
    ]);
    expect(audit[1]?.resources).toEqual(['arn:aws:s3:::site/static/*']);
    const fix =
      definition.permissions?.(definition.schema.parse({ buckets: [{ bucket: 'site' }], fix: true })) ?? [];
    expect(fix.flatMap((statement) => statement.actions)).toEqual(
      expect.arrayContaining(['s3:PutObject', 's3:GetObjectAcl', 's3:PutObjectAcl']),
    );
  });
});

describe('configuration', () => {
  it('names the field and what was expected', () => {
    const bad = definition.schema.safeParse({
      buckets: [{ bucket: 'Bad_Bucket' }],
      concurrency: 0,
      types: { js: 'javascript' },
    });
    expect(bad.success).toBe(false);
    const messages = bad.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^buckets\.0\.bucket: expected an S3 bucket name/),
        expect.stringMatching(/^concurrency: /),
        expect.stringMatching(/^types\.js: expected a MIME type/),
      ]),
    );
  });

  it('accepts the sample invocation payload as a section', () => {
    expect(definition.schema.parse(sampleEvent)).toMatchObject({ sniff: true, fix: false, concurrency: 32 });
  });

  it('fills the defaults', () => {
    expect(definition.schema.parse({ buckets: [{ bucket: 'site' }] })).toMatchObject({
      schedule: 'rate(1 day)',
      fix: false,
      sniff: false,
      since: false,
      concurrency: 32,
      maxFindings: 1000,
      types: {},
      buckets: [{ bucket: 'site', prefix: '', include: [], exclude: [] }],
    });
  });
});
