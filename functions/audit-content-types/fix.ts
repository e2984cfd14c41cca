/**
 * The in-place Content-Type fix that loses nothing. CopyObject onto itself with
 * `MetadataDirective: REPLACE` replaces *every* metadata field, resets the ACL to private, the
 * storage class to STANDARD and the encryption to the bucket default; so the plan re-sends all of
 * it from the HEAD, guards the copy with the HEAD's ETag, and skips (with a reason) whatever a
 * single CopyObject cannot carry over.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  type CopyObjectCommandInput,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandInput,
  GetObjectAclCommand,
  type GetObjectAclCommandOutput,
  GetObjectTaggingCommand,
  type HeadObjectCommandOutput,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mapBounded } from '#shared/concurrency.ts';

/** CopyObject's single-request limit; larger objects are copied part by part. */
export const COPY_OBJECT_MAX_BYTES = 5 * 1024 ** 3;

/** A multipart upload has at most 10,000 parts of at most 5 GiB. */
const MAX_PARTS = 10_000;
const MAX_PART_BYTES = 5 * 1024 ** 3;
/** Parts of at least 512 MiB keep a 6 GB copy at a dozen server-side requests. */
const MIN_PART_BYTES = 512 * 1024 ** 2;
/** Part copies in flight for one object. */
const PART_CONCURRENCY = 4;
/**
 * Time budgeted per round of part copies (512 MiB each at a conservative 25 MB/s server-side):
 * a multipart copy is only started when the run has that much time left, so a Lambda timeout never
 * leaves a half-copied upload behind.
 */
const PART_ROUND_MS = 30_000;

/** Storage classes whose objects must be restored before they can be copied. */
const ARCHIVED_CLASSES: ReadonlySet<string> = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/** Why a fix was not attempted or did not happen. */
export type SkipReason =
  | 'changed'
  | 'too-large'
  | 'archived'
  | 'customer-key'
  | 'missing-metadata'
  | 'unparseable-expires'
  | 'replica'
  | 'event-hold'
  | 'acl-unreadable'
  | 'acl-unsupported'
  | 'sniff-disagrees'
  | 'copy-failed'
  | 'not-enough-time';

/** One byte range of a multipart copy. */
export interface PartRange {
  partNumber: number;
  /** `bytes=first-last`, inclusive. */
  range: string;
}

/**
 * A planned copy, or the reason there is none. Up to 5 GiB one CopyObject; above, a multipart
 * upload that is given every metadata field itself (a multipart copy copies none of them).
 */
export type CopyPlan =
  | { ok: true; kind: 'single'; input: CopyObjectCommandInput; kept: string[] }
  | {
      ok: true;
      kind: 'multipart';
      create: CreateMultipartUploadCommandInput;
      copySource: string;
      parts: PartRange[];
      /** The tags must be read and re-sent: a multipart upload has no tagging directive. */
      copyTags: boolean;
      kept: string[];
    }
  | { ok: false; reason: SkipReason; detail: string };

/** Object grants as CopyObject grant headers (`id="…"`, `uri="…"`, `emailAddress="…"`). */
export interface GrantHeaders {
  GrantFullControl?: string;
  GrantRead?: string;
  GrantReadACP?: string;
  GrantWriteACP?: string;
}

/** The outcome of `fixObject`. */
export type FixResult =
  | {
      fixed: true;
      from: string | undefined;
      to: string;
      kept: string[];
      etag?: string;
      versionId?: string;
      /** Set for objects over 5 GiB, copied in this many parts. */
      parts?: number;
    }
  | { fixed: false; reason: SkipReason; detail: string; errorName?: string };

/** Whether a bucket is an S3 Express One Zone directory bucket (`name--azid--x-s3`). */
export function isDirectoryBucket(bucket: string): boolean {
  return bucket.endsWith('--x-s3');
}

/** RFC 3986 percent-encoding of one key segment (encodeURIComponent leaves `!'()*` alone). */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The `x-amz-copy-source` value: bucket and URL-encoded key, with the version on versioned buckets. */
export function encodeCopySource(bucket: string, key: string, versionId?: string): string {
  const source = `${bucket}/${key.split('/').map(encodeSegment).join('/')}`;
  // "null" is the version id S3 reports for objects written before versioning was enabled.
  return versionId === undefined ? source : `${source}?versionId=${encodeURIComponent(versionId)}`;
}

function granteeHeader(grant: NonNullable<GetObjectAclCommandOutput['Grants']>[number]): string | undefined {
  const grantee = grant.Grantee;
  if (grantee?.ID) return `id="${grantee.ID}"`;
  if (grantee?.URI) return `uri="${grantee.URI}"`;
  if (grantee?.EmailAddress) return `emailAddress="${grantee.EmailAddress}"`;
  return undefined;
}

/**
 * Grant headers that reproduce an object ACL, or undefined when the ACL is the owner's
 * FULL_CONTROL only (what CopyObject's default `private` gives anyway).
 */
export function grantHeadersFromAcl(
  acl: Pick<GetObjectAclCommandOutput, 'Owner' | 'Grants'>,
): GrantHeaders | undefined {
  const byPermission: Record<'FULL_CONTROL' | 'READ' | 'READ_ACP' | 'WRITE_ACP', string[]> = {
    FULL_CONTROL: [],
    READ: [],
    READ_ACP: [],
    WRITE_ACP: [],
  };
  let beyondOwner = false;
  for (const grant of acl.Grants ?? []) {
    const header = granteeHeader(grant);
    const permission = grant.Permission;
    // WRITE is meaningless on objects; a grant without grantee or permission carries nothing.
    if (header === undefined || permission === undefined || permission === 'WRITE') continue;
    byPermission[permission].push(header);
    const ownerFullControl = permission === 'FULL_CONTROL' && grant.Grantee?.ID === acl.Owner?.ID;
    if (!ownerFullControl) beyondOwner = true;
  }
  if (!beyondOwner) return undefined;
  const headers: GrantHeaders = {};
  if (byPermission.FULL_CONTROL.length > 0) headers.GrantFullControl = byPermission.FULL_CONTROL.join(', ');
  if (byPermission.READ.length > 0) headers.GrantRead = byPermission.READ.join(', ');
  if (byPermission.READ_ACP.length > 0) headers.GrantReadACP = byPermission.READ_ACP.join(', ');
  if (byPermission.WRITE_ACP.length > 0) headers.GrantWriteACP = byPermission.WRITE_ACP.join(', ');
  return headers;
}

/** Whether an HTTP-date string survives a round trip through a JavaScript Date. */
function expiresSurvives(head: HeadObjectCommandOutput): boolean {
  if (head.ExpiresString === undefined) return true;
  return head.Expires instanceof Date && !Number.isNaN(head.Expires.getTime());
}

/**
 * The CopyObject request that changes only the Content-Type of `bucket/key`, from its HEAD. Pure:
 * every decision about what could be lost is made here and is unit-tested.
 */
export function planInPlaceCopy(
  bucket: string,
  key: string,
  head: HeadObjectCommandOutput,
  contentType: string,
  grants: GrantHeaders | undefined,
): CopyPlan {
  const size = head.ContentLength ?? 0;
  if (size > MAX_PARTS * MAX_PART_BYTES) {
    return {
      ok: false,
      reason: 'too-large',
      detail: `the object is ${(size / 1024 ** 4).toFixed(1)} TiB, more than a multipart copy can hold`,
    };
  }
  const storageClass = head.StorageClass;
  if (storageClass !== undefined && ARCHIVED_CLASSES.has(storageClass)) {
    return {
      ok: false,
      reason: 'archived',
      detail: `the object is in ${storageClass}; it must be restored before it can be copied`,
    };
  }
  if (head.ArchiveStatus !== undefined) {
    return {
      ok: false,
      reason: 'archived',
      detail: `the object is in the Intelligent-Tiering ${head.ArchiveStatus} tier; it must be restored first`,
    };
  }
  if (head.SSECustomerAlgorithm !== undefined) {
    return {
      ok: false,
      reason: 'customer-key',
      detail: 'the object is encrypted with a customer-provided key (SSE-C) that watchkeeper does not hold',
    };
  }
  if ((head.MissingMeta ?? 0) > 0) {
    return {
      ok: false,
      reason: 'missing-metadata',
      detail: `${head.MissingMeta} metadata entries cannot be read over HTTP, so the copy would drop them`,
    };
  }
  if (!expiresSurvives(head)) {
    return {
      ok: false,
      reason: 'unparseable-expires',
      detail: `its Expires header "${head.ExpiresString}" is not an HTTP date and could not be re-sent unchanged`,
    };
  }
  if (head.ReplicationStatus === 'REPLICA') {
    return {
      ok: false,
      reason: 'replica',
      detail: 'the object is a replication replica; fix the source bucket so the replica stays identical',
    };
  }
  if (head.ObjectLockEventHold !== undefined) {
    return {
      ok: false,
      reason: 'event-hold',
      detail: 'the object has an Object Lock event hold, which a copy cannot reproduce',
    };
  }

  const { fields, kept } = replacementFields(head, contentType, grants);
  const copySource = encodeCopySource(bucket, key, head.VersionId);
  if (size <= COPY_OBJECT_MAX_BYTES) {
    const input: CopyObjectCommandInput = {
      Bucket: bucket,
      Key: key,
      CopySource: copySource,
      MetadataDirective: 'REPLACE',
      // Directory buckets have no object tags (and no tagging directive) to keep.
      ...(isDirectoryBucket(bucket) ? {} : { TaggingDirective: 'COPY' as const }),
      ...fields,
    };
    if (head.ETag !== undefined) input.CopySourceIfMatch = head.ETag;
    return { ok: true, kind: 'single', input, kept };
  }
  if (head.ETag === undefined) {
    return {
      ok: false,
      reason: 'too-large',
      detail: 'S3 reported no ETag, so a multipart copy could not be guarded',
    };
  }
  return {
    ok: true,
    kind: 'multipart',
    create: { Bucket: bucket, Key: key, ...fields },
    copySource,
    parts: partRanges(size),
    copyTags: (head.TagCount ?? 0) > 0,
    kept,
  };
}

/** The fields CopyObject (REPLACE) and CreateMultipartUpload share, all taken from the HEAD. */
type ReplacementFields = Pick<
  CopyObjectCommandInput,
  | 'ContentType'
  | 'Metadata'
  | 'CacheControl'
  | 'ContentDisposition'
  | 'ContentEncoding'
  | 'ContentLanguage'
  | 'Expires'
  | 'WebsiteRedirectLocation'
  | 'StorageClass'
  | 'ServerSideEncryption'
  | 'SSEKMSKeyId'
  | 'BucketKeyEnabled'
  | 'ObjectLockMode'
  | 'ObjectLockRetainUntilDate'
  | 'ObjectLockLegalHoldStatus'
  | keyof GrantHeaders
>;

function replacementFields(
  head: HeadObjectCommandOutput,
  contentType: string,
  grants: GrantHeaders | undefined,
): { fields: ReplacementFields; kept: string[] } {
  const kept: string[] = [];
  const fields: ReplacementFields = { ContentType: contentType, Metadata: { ...(head.Metadata ?? {}) } };
  const metadataCount = Object.keys(head.Metadata ?? {}).length;
  if (metadataCount > 0) kept.push(`${metadataCount} user metadata entr${metadataCount === 1 ? 'y' : 'ies'}`);
  if (head.CacheControl !== undefined) {
    fields.CacheControl = head.CacheControl;
    kept.push('Cache-Control');
  }
  if (head.ContentDisposition !== undefined) {
    fields.ContentDisposition = head.ContentDisposition;
    kept.push('Content-Disposition');
  }
  if (head.ContentEncoding !== undefined) {
    fields.ContentEncoding = head.ContentEncoding;
    kept.push('Content-Encoding');
  }
  if (head.ContentLanguage !== undefined) {
    fields.ContentLanguage = head.ContentLanguage;
    kept.push('Content-Language');
  }
  if (head.Expires !== undefined) {
    fields.Expires = head.Expires;
    kept.push('Expires');
  }
  if (head.WebsiteRedirectLocation !== undefined) {
    fields.WebsiteRedirectLocation = head.WebsiteRedirectLocation;
    kept.push('website redirect');
  }
  if (head.StorageClass !== undefined) {
    fields.StorageClass = head.StorageClass;
    kept.push(`storage class ${head.StorageClass}`);
  }
  if (head.ServerSideEncryption === 'aws:kms' || head.ServerSideEncryption === 'aws:kms:dsse') {
    fields.ServerSideEncryption = head.ServerSideEncryption;
    if (head.SSEKMSKeyId !== undefined) fields.SSEKMSKeyId = head.SSEKMSKeyId;
    if (head.BucketKeyEnabled !== undefined) fields.BucketKeyEnabled = head.BucketKeyEnabled;
    kept.push(`${head.ServerSideEncryption === 'aws:kms' ? 'SSE-KMS' : 'DSSE-KMS'} with the same key`);
  } else if (head.ServerSideEncryption !== undefined) {
    fields.ServerSideEncryption = head.ServerSideEncryption;
    kept.push(`${head.ServerSideEncryption} encryption`);
  }
  if (head.ObjectLockMode !== undefined) fields.ObjectLockMode = head.ObjectLockMode;
  if (head.ObjectLockRetainUntilDate !== undefined)
    fields.ObjectLockRetainUntilDate = head.ObjectLockRetainUntilDate;
  if (head.ObjectLockLegalHoldStatus !== undefined)
    fields.ObjectLockLegalHoldStatus = head.ObjectLockLegalHoldStatus;
  if (head.ObjectLockMode !== undefined || head.ObjectLockLegalHoldStatus !== undefined) {
    kept.push('Object Lock settings');
  }
  if (grants !== undefined) {
    Object.assign(fields, grants);
    kept.push('ACL grants');
  }
  if ((head.TagCount ?? 0) > 0) kept.push('tags');
  return { fields, kept };
}

/** Byte ranges covering `size` bytes in at most 10,000 parts of 512 MiB to 5 GiB. */
export function partRanges(size: number): PartRange[] {
  const mebibyte = 1024 ** 2;
  const partSize = Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS / mebibyte) * mebibyte);
  const parts: PartRange[] = [];
  for (let first = 0, partNumber = 1; first < size; first += partSize, partNumber += 1) {
    parts.push({ partNumber, range: `bytes=${first}-${Math.min(size, first + partSize) - 1}` });
  }
  return parts;
}

/** The name of an SDK error (`PreconditionFailed`, `AccessDenied` …). */
export function errorName(error: unknown): string {
  if (error instanceof Error) return error.name;
  return 'Error';
}

async function readGrants(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId: string | undefined,
): Promise<
  { ok: true; grants: GrantHeaders | undefined } | { ok: false; reason: SkipReason; detail: string }
> {
  try {
    const acl = await s3.send(
      new GetObjectAclCommand(
        versionId === undefined
          ? { Bucket: bucket, Key: key }
          : { Bucket: bucket, Key: key, VersionId: versionId },
      ),
    );
    return { ok: true, grants: grantHeadersFromAcl(acl) };
  } catch (error) {
    // Buckets with ACLs disabled (BucketOwnerEnforced) have nothing to carry over.
    if (errorName(error) === 'AccessControlListNotSupported') return { ok: true, grants: undefined };
    return {
      ok: false,
      reason: 'acl-unreadable',
      detail: `its ACL could not be read (${errorName(error)}), and a copy without it could make a public object private`,
    };
  }
}

/**
 * Rewrites the Content-Type of one object in place. Never throws for a per-object problem: an
 * object that changed since the HEAD (412 on the ETag guard) or a copy S3 refuses is a skip.
 */
export async function fixObject(
  s3: S3Client,
  bucket: string,
  key: string,
  head: HeadObjectCommandOutput,
  contentType: string,
  remainingMs?: () => number,
): Promise<FixResult> {
  // Directory buckets have no ACLs: nothing to read or carry over.
  const acl = isDirectoryBucket(bucket)
    ? ({ ok: true, grants: undefined } as const)
    : await readGrants(s3, bucket, key, head.VersionId);
  if (!acl.ok) return { fixed: false, reason: acl.reason, detail: acl.detail };
  const plan = planInPlaceCopy(bucket, key, head, contentType, acl.grants);
  if (!plan.ok) return { fixed: false, reason: plan.reason, detail: plan.detail };
  if (plan.kind === 'multipart' && remainingMs !== undefined) {
    const needed = Math.ceil(plan.parts.length / PART_CONCURRENCY) * PART_ROUND_MS;
    if (remainingMs() < needed) {
      return {
        fixed: false,
        reason: 'not-enough-time',
        detail: `copying it in ${plan.parts.length} parts may take ${Math.round(needed / 1000)} s, more than this run has left; use the S3 Batch Operations handler for objects this large`,
      };
    }
  }
  try {
    // No abort signal: a copy cut off mid-flight would leave us not knowing whether it happened.
    if (plan.kind === 'multipart') return await multipartCopy(s3, head, contentType, plan);
    const result = await s3.send(new CopyObjectCommand(plan.input));
    const fixed: FixResult = { fixed: true, from: head.ContentType, to: contentType, kept: plan.kept };
    if (result.CopyObjectResult?.ETag !== undefined) fixed.etag = result.CopyObjectResult.ETag;
    if (result.VersionId !== undefined) fixed.versionId = result.VersionId;
    return fixed;
  } catch (error) {
    const name = errorName(error);
    // 412 on the copy-source guard; NoSuchKey when the object was deleted before a multipart completed.
    if (name === 'PreconditionFailed' || (plan.kind === 'multipart' && name === 'NoSuchKey')) {
      return {
        fixed: false,
        reason: 'changed',
        detail:
          'the object changed between the check and the copy; it was left alone and is checked again next run',
        errorName: name,
      };
    }
    if (name === 'AccessControlListNotSupported' || (name === 'InvalidRequest' && acl.grants !== undefined)) {
      return {
        fixed: false,
        reason: 'acl-unsupported',
        detail: `S3 refused to carry the object's ACL grants over (${name}); the object was left alone`,
        errorName: name,
      };
    }
    return { fixed: false, reason: 'copy-failed', detail: `S3 refused the copy (${name})`, errorName: name };
  }
}

/** URL query encoding of a tag set, as `x-amz-tagging` wants it. */
export function encodeTagging(
  tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }>,
): string {
  return tags
    .filter((tag) => tag.Key !== undefined)
    .map((tag) => `${encodeURIComponent(tag.Key ?? '')}=${encodeURIComponent(tag.Value ?? '')}`)
    .join('&');
}

/**
 * Copies an object over 5 GiB onto itself part by part. Every part copy is guarded by the HEAD's
 * ETag, and so is the completion (`If-Match`), so a write landing at any point makes S3 answer 412
 * and the upload is aborted instead of replacing the new object with old bytes.
 */
async function multipartCopy(
  s3: S3Client,
  head: HeadObjectCommandOutput,
  contentType: string,
  plan: Extract<CopyPlan, { kind: 'multipart' }>,
): Promise<FixResult> {
  const { Bucket, Key } = plan.create;
  const etag = head.ETag ?? '';
  const create: CreateMultipartUploadCommandInput = { ...plan.create };
  if (plan.copyTags) {
    const tags = await s3.send(
      new GetObjectTaggingCommand({
        Bucket,
        Key,
        ...(head.VersionId === undefined ? {} : { VersionId: head.VersionId }),
      }),
    );
    const tagging = encodeTagging(tags.TagSet ?? []);
    if (tagging !== '') create.Tagging = tagging;
  }
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand(create));
  if (UploadId === undefined) throw new Error(`S3 returned no upload id for s3://${Bucket}/${Key}`);
  try {
    const { results } = await mapBounded(plan.parts, PART_CONCURRENCY, async (part) => {
      const copied = await s3.send(
        new UploadPartCopyCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber: part.partNumber,
          CopySource: plan.copySource,
          CopySourceRange: part.range,
          CopySourceIfMatch: etag,
        }),
      );
      return { PartNumber: part.partNumber, ETag: copied.CopyPartResult?.ETag };
    });
    const completed = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        IfMatch: etag,
        MultipartUpload: { Parts: results },
      }),
    );
    const fixed: FixResult = {
      fixed: true,
      from: head.ContentType,
      to: contentType,
      kept: plan.kept,
      parts: plan.parts.length,
    };
    if (completed.ETag !== undefined) fixed.etag = completed.ETag;
    if (completed.VersionId !== undefined) fixed.versionId = completed.VersionId;
    return fixed;
  } catch (error) {
    // Parts of an abandoned upload are billed until aborted (or a lifecycle rule removes them).
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
    throw error;
  }
}
