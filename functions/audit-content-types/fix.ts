/**
 * The in-place Content-Type fix that loses nothing. CopyObject onto itself with
 * `MetadataDirective: REPLACE` replaces *every* metadata field, resets the ACL to private, the
 * storage class to STANDARD and the encryption to the bucket default; so the plan re-sends all of
 * it from the HEAD, guards the copy with the HEAD's ETag, and skips (with a reason) whatever a
 * single CopyObject cannot carry over.
 */
import {
  CopyObjectCommand,
  type CopyObjectCommandInput,
  GetObjectAclCommand,
  type GetObjectAclCommandOutput,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';

/** CopyObject's single-request limit; larger objects need a multipart copy (not implemented). */
export const COPY_OBJECT_MAX_BYTES = 5 * 1024 ** 3;

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
  | 'copy-failed';

/** A planned copy, or the reason there is none. */
export type CopyPlan =
  | { ok: true; input: CopyObjectCommandInput; kept: string[] }
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
  | { fixed: true; from: string | undefined; to: string; kept: string[]; etag?: string; versionId?: string }
  | { fixed: false; reason: SkipReason; detail: string; errorName?: string };

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
  if (size > COPY_OBJECT_MAX_BYTES) {
    return {
      ok: false,
      reason: 'too-large',
      detail: `the object is ${(size / 1024 ** 3).toFixed(1)} GiB; CopyObject copies at most 5 GiB and a multipart copy would not carry the metadata over`,
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

  const kept: string[] = [];
  const input: CopyObjectCommandInput = {
    Bucket: bucket,
    Key: key,
    CopySource: encodeCopySource(bucket, key, head.VersionId),
    MetadataDirective: 'REPLACE',
    TaggingDirective: 'COPY',
    ContentType: contentType,
    Metadata: { ...(head.Metadata ?? {}) },
  };
  if (head.ETag !== undefined) input.CopySourceIfMatch = head.ETag;
  const metadataCount = Object.keys(head.Metadata ?? {}).length;
  if (metadataCount > 0) kept.push(`${metadataCount} user metadata entr${metadataCount === 1 ? 'y' : 'ies'}`);
  if (head.CacheControl !== undefined) {
    input.CacheControl = head.CacheControl;
    kept.push('Cache-Control');
  }
  if (head.ContentDisposition !== undefined) {
    input.ContentDisposition = head.ContentDisposition;
    kept.push('Content-Disposition');
  }
  if (head.ContentEncoding !== undefined) {
    input.ContentEncoding = head.ContentEncoding;
    kept.push('Content-Encoding');
  }
  if (head.ContentLanguage !== undefined) {
    input.ContentLanguage = head.ContentLanguage;
    kept.push('Content-Language');
  }
  if (head.Expires !== undefined) {
    input.Expires = head.Expires;
    kept.push('Expires');
  }
  if (head.WebsiteRedirectLocation !== undefined) {
    input.WebsiteRedirectLocation = head.WebsiteRedirectLocation;
    kept.push('website redirect');
  }
  if (storageClass !== undefined) {
    input.StorageClass = storageClass;
    kept.push(`storage class ${storageClass}`);
  }
  if (head.ServerSideEncryption === 'aws:kms' || head.ServerSideEncryption === 'aws:kms:dsse') {
    input.ServerSideEncryption = head.ServerSideEncryption;
    if (head.SSEKMSKeyId !== undefined) input.SSEKMSKeyId = head.SSEKMSKeyId;
    if (head.BucketKeyEnabled !== undefined) input.BucketKeyEnabled = head.BucketKeyEnabled;
    kept.push(`${head.ServerSideEncryption === 'aws:kms' ? 'SSE-KMS' : 'DSSE-KMS'} with the same key`);
  } else if (head.ServerSideEncryption !== undefined) {
    input.ServerSideEncryption = head.ServerSideEncryption;
    kept.push(`${head.ServerSideEncryption} encryption`);
  }
  if (head.ObjectLockMode !== undefined) input.ObjectLockMode = head.ObjectLockMode;
  if (head.ObjectLockRetainUntilDate !== undefined)
    input.ObjectLockRetainUntilDate = head.ObjectLockRetainUntilDate;
  if (head.ObjectLockLegalHoldStatus !== undefined)
    input.ObjectLockLegalHoldStatus = head.ObjectLockLegalHoldStatus;
  if (head.ObjectLockMode !== undefined || head.ObjectLockLegalHoldStatus !== undefined)
    kept.push('Object Lock settings');
  if (grants !== undefined) {
    Object.assign(input, grants);
    kept.push('ACL grants');
  }
  if ((head.TagCount ?? 0) > 0) kept.push('tags');
  return { ok: true, input, kept };
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
): Promise<FixResult> {
  const acl = await readGrants(s3, bucket, key, head.VersionId);
  if (!acl.ok) return { fixed: false, reason: acl.reason, detail: acl.detail };
  const plan = planInPlaceCopy(bucket, key, head, contentType, acl.grants);
  if (!plan.ok) return { fixed: false, reason: plan.reason, detail: plan.detail };
  try {
    // No abort signal: a copy cut off mid-flight would leave us not knowing whether it happened.
    const result = await s3.send(new CopyObjectCommand(plan.input));
    const fixed: FixResult = { fixed: true, from: head.ContentType, to: contentType, kept: plan.kept };
    if (result.CopyObjectResult?.ETag !== undefined) fixed.etag = result.CopyObjectResult.ETag;
    if (result.VersionId !== undefined) fixed.versionId = result.VersionId;
    return fixed;
  } catch (error) {
    const name = errorName(error);
    if (name === 'PreconditionFailed') {
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
