/**
 * The per-object audit shared by the scheduled job and the S3 Batch Operations handler: HEAD,
 * judge the type against the extension, optionally sniff the first bytes, optionally fix.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { fileTypeFromBuffer } from 'file-type';
import type { Finding } from '#shared/findings.ts';
import { errorName, type FixResult, fixObject } from './fix.ts';
import {
  CODES,
  correctedType,
  type Expectation,
  expectationFor,
  expectationForEncoded,
  judgeContentType,
  lacksCharset,
  parseContentType,
  sniffContradicts,
} from './rules.ts';

/** The job name findings carry. */
export const JOB_NAME = 'audit-content-types';

/** Bytes read for magic-number detection (file-type needs up to 4,100 for its longest signatures). */
export const SNIFF_BYTES = 4100;

/** What to do with each object. */
export interface InspectOptions {
  overrides: ReadonlyMap<string, string>;
  sniff: boolean;
  fix: boolean;
  /** Aborts reads (HEAD, ranged GET) at the deadline; copies are never aborted mid-flight. */
  signal?: AbortSignal;
  /** Time left in the run: a multipart copy is not started without enough of it. */
  remainingMs?: () => number;
}

/** One object to inspect. */
export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

/** What inspecting one object found. */
export interface Inspection {
  /** healthy: correct type; problem: findings emitted; vanished: deleted since listing; unknown-extension: nothing to compare. */
  status: 'healthy' | 'problem' | 'vanished' | 'unknown-extension';
  findings: Finding[];
  charsetMissing: boolean;
  sniffed: boolean;
  fix?: FixResult;
}

/** `s3://bucket/key` as findings name objects. */
export function objectTarget(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

async function head(
  s3: S3Client,
  ref: ObjectRef,
  signal: AbortSignal | undefined,
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    const input =
      ref.versionId === undefined
        ? { Bucket: ref.bucket, Key: ref.key }
        : { Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId };
    return await s3.send(new HeadObjectCommand(input), signal === undefined ? {} : { abortSignal: signal });
  } catch (error) {
    // Deleted between the listing and the HEAD: nothing left to audit.
    if (errorName(error) === 'NotFound' || errorName(error) === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Magic-number detection on the first bytes; undefined when it cannot say (or must not guess). */
async function sniff(
  s3: S3Client,
  ref: ObjectRef,
  headers: HeadObjectCommandOutput,
  signal: AbortSignal | undefined,
): Promise<{ mime: string; ext: string } | undefined> {
  if ((headers.ContentLength ?? 0) === 0) return undefined;
  // Pre-compressed assets (Content-Encoding: gzip/br) hold compressed bytes, not the format itself.
  const encoding = headers.ContentEncoding?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') return undefined;
  const input = {
    Bucket: ref.bucket,
    Key: ref.key,
    Range: `bytes=0-${SNIFF_BYTES - 1}`,
    ...(headers.ETag === undefined ? {} : { IfMatch: headers.ETag }),
    ...(headers.VersionId === undefined ? {} : { VersionId: headers.VersionId }),
  };
  try {
    const response = await s3.send(
      new GetObjectCommand(input),
      signal === undefined ? {} : { abortSignal: signal },
    );
    const bytes = await response.Body?.transformToByteArray();
    if (bytes === undefined) return undefined;
    return await fileTypeFromBuffer(bytes);
  } catch (error) {
    // Replaced since the HEAD: the next run sees the new object.
    if (errorName(error) === 'PreconditionFailed') return undefined;
    throw error;
  }
}

function baseData(ref: ObjectRef, headers: HeadObjectCommandOutput): Record<string, unknown> {
  return {
    bucket: ref.bucket,
    key: ref.key,
    size: headers.ContentLength ?? 0,
    ...(headers.LastModified === undefined ? {} : { lastModified: headers.LastModified.toISOString() }),
    ...(headers.ETag === undefined ? {} : { etag: headers.ETag }),
    ...(headers.VersionId === undefined ? {} : { versionId: headers.VersionId }),
  };
}

function fixFinding(
  target: string,
  fix: FixResult,
  wanted: string,
  previousEtag: string | undefined,
  data: Record<string, unknown>,
): Finding {
  if (fix.fixed) {
    const kept = fix.kept.length > 0 ? fix.kept.join(', ') : 'nothing else (it had no other metadata)';
    return {
      job: JOB_NAME,
      code: CODES.fixed,
      target,
      severity: 'info',
      message: `Changed the Content-Type of ${target} from ${fix.from ?? 'none'} to ${fix.to}, keeping ${kept}${fix.parts === undefined ? '' : ` (copied in ${fix.parts} parts)`}.`,
      data: {
        ...data,
        from: fix.from ?? null,
        to: fix.to,
        kept: fix.kept,
        previousEtag: previousEtag ?? null,
        etag: fix.etag,
        newVersionId: fix.versionId,
        ...(fix.parts === undefined ? {} : { parts: fix.parts }),
      },
    };
  }
  return {
    job: JOB_NAME,
    code: CODES.fixSkipped,
    target,
    severity: 'warning',
    message: `Did not fix the Content-Type of ${target}: ${fix.detail}.`,
    data: {
      ...data,
      reason: fix.reason,
      wanted,
      ...(fix.errorName === undefined ? {} : { error: fix.errorName }),
    },
  };
}

/**
 * Audits (and with `fix`, repairs) one object. Throws only for errors the caller must classify
 * (AccessDenied, throttling after retries, network): the job counts them, Batch Operations retries them.
 */
export async function inspectObject(
  s3: S3Client,
  ref: ObjectRef,
  options: InspectOptions,
): Promise<Inspection> {
  const byName = expectationFor(ref.key, options.overrides);
  // `.gz`/`.br`/`.zst` keys may be transparent pre-compressed assets: the HEAD's Content-Encoding decides.
  const compressed = /\.(gz|br|zst)$/i.test(ref.key);
  if (byName === undefined && !compressed && !options.sniff) {
    return { status: 'unknown-extension', findings: [], charsetMissing: false, sniffed: false };
  }
  const headers = await head(s3, ref, options.signal);
  if (headers === undefined)
    return { status: 'vanished', findings: [], charsetMissing: false, sniffed: false };
  const expectation: Expectation | undefined = compressed
    ? expectationForEncoded(ref.key, headers.ContentEncoding, options.overrides)
    : byName;
  const target = objectTarget(ref.bucket, ref.key);
  const data = baseData(ref, headers);
  const findings: Finding[] = [];
  const stored = headers.ContentType;
  const storedEssence = parseContentType(stored)?.essence;

  const problem = expectation === undefined ? undefined : judgeContentType(target, stored, expectation);
  let detected: { mime: string; ext: string } | undefined;
  let sniffed = false;
  if (options.sniff) {
    detected = await sniff(s3, ref, headers, options.signal);
    sniffed = true;
    if (detected !== undefined && sniffContradicts(storedEssence, detected.mime)) {
      findings.push({
        job: JOB_NAME,
        code: CODES.sniffMismatch,
        target,
        severity: 'warning',
        message: `${target} is stored as ${storedEssence ?? 'no type'}, but its content is ${detected.ext.toUpperCase()} (${detected.mime}).`,
        data: { ...data, actual: stored ?? null, detected: detected.mime, detectedExtension: detected.ext },
      });
    }
  }
  if (expectation === undefined) {
    return {
      status: findings.length > 0 ? 'problem' : 'unknown-extension',
      findings,
      charsetMissing: false,
      sniffed,
    };
  }

  let fix: FixResult | undefined;
  if (problem !== undefined) {
    const wanted = correctedType(expectation, stored);
    const problemData = {
      ...data,
      expected: expectation.expected,
      actual: stored ?? null,
      extension: expectation.extension,
    };
    if (
      options.fix &&
      detected !== undefined &&
      sniffContradicts(parseContentType(wanted)?.essence, detected.mime)
    ) {
      // The bytes are not what the name says: relabelling them would only move the problem.
      fix = {
        fixed: false,
        reason: 'sniff-disagrees',
        detail: `its content is ${detected.mime}, not ${expectation.expected}, so the name or the content is wrong, not just the type`,
      };
    } else if (options.fix) {
      fix = await fixObject(s3, ref.bucket, ref.key, headers, wanted, options.remainingMs);
    }
    if (fix?.fixed !== true) {
      findings.unshift({
        job: JOB_NAME,
        code: problem.code,
        target,
        severity: problem.severity,
        message: problem.message,
        data: problemData,
      });
    }
    if (fix?.fixed === true) {
      // The fix can only have run if the sniffed content agrees with the new type: that finding is settled too.
      const settled = findings.findIndex((finding) => finding.code === CODES.sniffMismatch);
      if (settled !== -1) findings.splice(settled, 1);
    }
    if (fix !== undefined) findings.push(fixFinding(target, fix, wanted, headers.ETag, problemData));
  }
  const inspection: Inspection = {
    status: findings.length > 0 ? 'problem' : 'healthy',
    findings,
    charsetMissing: problem === undefined && lacksCharset(stored),
    sniffed,
  };
  if (fix !== undefined) inspection.fix = fix;
  return inspection;
}
