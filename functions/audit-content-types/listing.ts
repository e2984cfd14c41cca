/**
 * Streams the keys of a bucket prefix (ListObjectsV2, 1,000 per page, next page fetched while the
 * current one is audited) and decides which ones need a HEAD at all: nothing bulk-lists
 * Content-Type, so every key filtered out here is a request saved.
 */
import { matchesGlob } from 'node:path/posix';
import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';

/** One key from the listing. */
export interface ListedObject {
  key: string;
  size: number;
  lastModified?: Date;
  storageClass?: string;
}

/** Where to list and what to let through. */
export interface ListingOptions {
  bucket: string;
  prefix: string;
  /** Resume after this key (from a checkpoint). */
  startAfter?: string;
  signal?: AbortSignal;
}

/** Keys read from S3, page by page, in key order. */
export async function* listObjects(s3: S3Client, options: ListingOptions): AsyncGenerator<ListedObject> {
  const send = (token: string | undefined): Promise<ListObjectsV2CommandOutput> =>
    s3.send(
      new ListObjectsV2Command({
        Bucket: options.bucket,
        ...(options.prefix === '' ? {} : { Prefix: options.prefix }),
        // StartAfter only matters on the first request; later ones carry the continuation token.
        ...(token === undefined && options.startAfter !== undefined
          ? { StartAfter: options.startAfter }
          : {}),
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
      options.signal === undefined ? {} : { abortSignal: options.signal },
    );
  let page: Promise<ListObjectsV2CommandOutput> | undefined = send(undefined);
  while (page !== undefined) {
    const current: ListObjectsV2CommandOutput = await page;
    const token = current.IsTruncated ? current.NextContinuationToken : undefined;
    // Prefetch: the next page is on its way while this one is being audited.
    page = token === undefined ? undefined : send(token);
    page?.catch(() => undefined); // surfaced when awaited; never an unhandled rejection meanwhile
    for (const object of current.Contents ?? []) {
      if (object.Key === undefined) continue;
      const listed: ListedObject = { key: object.Key, size: object.Size ?? 0 };
      if (object.LastModified !== undefined) listed.lastModified = object.LastModified;
      if (object.StorageClass !== undefined) listed.storageClass = object.StorageClass;
      yield listed;
    }
  }
}

/** Key globs from the configuration. */
export interface KeyFilter {
  include: readonly string[];
  exclude: readonly string[];
}

/** Why a listed key is not audited, or undefined when it is. */
export function skipReason(
  object: ListedObject,
  filter: KeyFilter,
  modifiedAfter: Date | undefined,
): 'folder-marker' | 'excluded' | 'unchanged' | undefined {
  // Console "folders" are empty objects whose key ends in "/": they have no type to get wrong.
  if (object.key.endsWith('/') && object.size === 0) return 'folder-marker';
  if (filter.include.length > 0 && !filter.include.some((glob) => matchesGlob(object.key, glob)))
    return 'excluded';
  if (filter.exclude.some((glob) => matchesGlob(object.key, glob))) return 'excluded';
  if (
    modifiedAfter !== undefined &&
    object.lastModified !== undefined &&
    object.lastModified < modifiedAfter
  ) {
    return 'unchanged';
  }
  return undefined;
}
