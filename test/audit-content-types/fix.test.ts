import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  COPY_OBJECT_MAX_BYTES,
  type CopyPlan,
  encodeCopySource,
  encodeTagging,
  grantHeadersFromAcl,
  partRanges,
  planInPlaceCopy,
} from '#functions/audit-content-types/fix.ts';

const meta = { $metadata: {} };

/** The CopyObject input of a single-request plan; fails the test for anything else. */
function single(plan: CopyPlan) {
  if (!plan.ok || plan.kind !== 'single')
    throw new Error(`expected a single CopyObject, got ${JSON.stringify(plan)}`);
  return plan.input;
}

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
    expect(single(plan)).toMatchObject({
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
    expect(plan.ok && plan.kept).toEqual(
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
    expect(single(kms)).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
      BucketKeyEnabled: true,
    });
    const s3 = planInPlaceCopy('b', 'a.css', head({ ServerSideEncryption: 'AES256' }), 'text/css', undefined);
    expect(single(s3).ServerSideEncryption).toBe('AES256');
  });

  it.each([
    [{ ContentLength: 10_000 * COPY_OBJECT_MAX_BYTES + 1 }, 'too-large'],
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
    expect(single(plan)).toMatchObject({
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

describe('partRanges', () => {
  function covers(size: number) {
    const parts = partRanges(size);
    let next = 0;
    for (const [index, part] of parts.entries()) {
      const match = /^bytes=(\d+)-(\d+)$/.exec(part.range);
      const first = Number(match?.[1]);
      const last = Number(match?.[2]);
      expect(part.partNumber).toBe(index + 1);
      expect(first).toBe(next);
      expect(last - first + 1).toBeLessThanOrEqual(COPY_OBJECT_MAX_BYTES);
      next = last + 1;
    }
    expect(next).toBe(size);
    return parts;
  }

  it('covers every byte exactly once in 512 MiB parts', () => {
    expect(covers(COPY_OBJECT_MAX_BYTES + 1)).toHaveLength(11);
    expect(covers(6 * 1024 ** 3 + 12_345).at(-1)?.range).toBe(
      `bytes=${6 * 1024 ** 3}-${6 * 1024 ** 3 + 12_344}`,
    );
  });

  it('grows the parts so a 48 TiB object still fits in 10,000', () => {
    expect(covers(48 * 1024 ** 4).length).toBeLessThanOrEqual(10_000);
  });
});

describe('encodeTagging', () => {
  it('URL-encodes keys and values', () => {
    expect(
      encodeTagging([
        { Key: 'team', Value: 'web & ops' },
        { Key: 'cost=centre', Value: '42' },
      ]),
    ).toBe('team=web%20%26%20ops&cost%3Dcentre=42');
  });
});
