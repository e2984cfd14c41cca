import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  COPY_OBJECT_MAX_BYTES,
  encodeCopySource,
  grantHeadersFromAcl,
  planInPlaceCopy,
} from '#functions/audit-content-types/fix.ts';

const meta = { $metadata: {} };

function head(fields: Partial<HeadObjectCommandOutput>): HeadObjectCommandOutput {
  return { ...meta, ContentLength: 10, ETag: '"abc"', ContentType: 'binary/octet-stream', ...fields };
}

describe('encodeCopySource', () => {
  it('percent-encodes each key segment and keeps the slashes', () => {
    expect(encodeCopySource('b', 'dir with space/a+b%c.css')).toBe('b/dir%20with%20space/a%2Bb%25c.css');
    expect(encodeCopySource('b', 'ünï/ファイル.css')).toBe(
      `b/${encodeURIComponent('ünï')}/${encodeURIComponent('ファイル.css')}`,
    );
    expect(encodeCopySource('b', "it's (1)*.css")).toBe('b/it%27s%20%281%29%2A.css');
  });

  it('names the version on versioned buckets', () => {
    expect(encodeCopySource('b', 'a.css', '3/L4kqtJl+x')).toBe('b/a.css?versionId=3%2FL4kqtJl%2Bx');
  });
});

describe('planInPlaceCopy', () => {
  it('re-sends every metadata field and guards the copy with the ETag', () => {
    const expires = new Date('2030-01-01T00:00:00Z');
    const plan = planInPlaceCopy(
      'b',
      'a.css',
      head({
        CacheControl: 'max-age=60',
        ContentDisposition: 'inline',
        ContentEncoding: 'gzip',
        ContentLanguage: 'de',
        Expires: expires,
        ExpiresString: expires.toUTCString(),
        WebsiteRedirectLocation: '/new.css',
        Metadata: { author: 'ci', build: '7' },
        StorageClass: 'STANDARD_IA',
        TagCount: 2,
      }),
      'text/css',
      undefined,
    );
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.input).toMatchObject({
      Bucket: 'b',
      Key: 'a.css',
      CopySource: 'b/a.css',
      CopySourceIfMatch: '"abc"',
      MetadataDirective: 'REPLACE',
      TaggingDirective: 'COPY',
      ContentType: 'text/css',
      CacheControl: 'max-age=60',
      ContentDisposition: 'inline',
      ContentEncoding: 'gzip',
      ContentLanguage: 'de',
      Expires: expires,
      WebsiteRedirectLocation: '/new.css',
      Metadata: { author: 'ci', build: '7' },
      StorageClass: 'STANDARD_IA',
    });
    expect(plan.kept).toEqual(
      expect.arrayContaining([
        'Cache-Control',
        'Content-Encoding',
        'storage class STANDARD_IA',
        '2 user metadata entries',
        'tags',
      ]),
    );
  });

  it('keeps SSE-KMS with the same key and bucket key, and SSE-S3 as SSE-S3', () => {
    const kms = planInPlaceCopy(
      'b',
      'a.css',
      head({
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
        BucketKeyEnabled: true,
      }),
      'text/css',
      undefined,
    );
    expect(kms.ok && kms.input).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
      BucketKeyEnabled: true,
    });
    const s3 = planInPlaceCopy('b', 'a.css', head({ ServerSideEncryption: 'AES256' }), 'text/css', undefined);
    expect(s3.ok && s3.input.ServerSideEncryption).toBe('AES256');
  });

  it.each([
    [{ ContentLength: COPY_OBJECT_MAX_BYTES + 1 }, 'too-large'],
    [{ StorageClass: 'GLACIER' as const }, 'archived'],
    [{ StorageClass: 'DEEP_ARCHIVE' as const }, 'archived'],
    [{ StorageClass: 'INTELLIGENT_TIERING' as const, ArchiveStatus: 'ARCHIVE_ACCESS' as const }, 'archived'],
    [{ SSECustomerAlgorithm: 'AES256' }, 'customer-key'],
    [{ MissingMeta: 2 }, 'missing-metadata'],
    [{ ExpiresString: 'soon' }, 'unparseable-expires'],
    [{ ReplicationStatus: 'REPLICA' as const }, 'replica'],
  ])('skips %o with reason %s', (fields, reason) => {
    const plan = planInPlaceCopy('b', 'a.css', head(fields), 'text/css', undefined);
    expect(plan).toMatchObject({ ok: false, reason });
  });

  it('copies a 5 GiB object exactly at the limit', () => {
    expect(
      planInPlaceCopy('b', 'a.css', head({ ContentLength: COPY_OBJECT_MAX_BYTES }), 'text/css', undefined).ok,
    ).toBe(true);
  });

  it('carries Object Lock settings and the version over', () => {
    const until = new Date('2031-01-01T00:00:00Z');
    const plan = planInPlaceCopy(
      'b',
      'a.css',
      head({
        VersionId: 'v1',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: until,
        ObjectLockLegalHoldStatus: 'ON',
      }),
      'text/css',
      undefined,
    );
    expect(plan.ok && plan.input).toMatchObject({
      CopySource: 'b/a.css?versionId=v1',
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: until,
      ObjectLockLegalHoldStatus: 'ON',
    });
  });
});

describe('grantHeadersFromAcl', () => {
  const owner = { ID: 'owner-id' };

  it('sends nothing for a private object (the owner full control only)', () => {
    expect(
      grantHeadersFromAcl({
        Owner: owner,
        Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'owner-id' }, Permission: 'FULL_CONTROL' }],
      }),
    ).toBeUndefined();
  });

  it('carries a public-read grant over, with the owner kept in full control', () => {
    const headers = grantHeadersFromAcl({
      Owner: owner,
      Grants: [
        { Grantee: { Type: 'CanonicalUser', ID: 'owner-id' }, Permission: 'FULL_CONTROL' },
        {
          Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
          Permission: 'READ',
        },
        { Grantee: { Type: 'CanonicalUser', ID: 'partner' }, Permission: 'READ_ACP' },
      ],
    });
    expect(headers).toEqual({
      GrantFullControl: 'id="owner-id"',
      GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
      GrantReadACP: 'id="partner"',
    });
  });
});
