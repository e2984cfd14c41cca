/**
 * One measured audit in its own process (so peak memory is the auditor's alone, not s3rver's):
 *   node bench/content-types/run.ts <watchkeeper|sequential> <endpoint> <bucket> [limit] [concurrency]
 * Prints one JSON line: objects, milliseconds, objects per second, peak RSS and peak heap.
 * `sequential` is how the usual fixer scripts work: list a page, HeadObject each key in turn.
 */
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { definition } from '#functions/audit-content-types/job.ts';
import { expectationFor, judgeContentType } from '#functions/audit-content-types/rules.ts';
import { localJobContext } from '#sandbox/job-context.ts';

const [mode = 'watchkeeper', endpoint = '', bucket = '', limitArgument = '0', concurrencyArgument = '32'] =
  process.argv.slice(2);
const limit = Number(limitArgument);
const concurrency = Number(concurrencyArgument);
if (endpoint === '' || bucket === '')
  throw new Error('usage: run.ts <mode> <endpoint> <bucket> [limit] [concurrency]');

Object.assign(process.env, {
  AWS_ENDPOINT_URL_S3: endpoint,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
});

// With --expose-gc (the memory runs) the sampler measures live heap: what survives a full GC,
// which is what grows if something holds on to keys or findings. Otherwise, heap used as is.
const gc = (globalThis as { gc?: () => void }).gc;
let peakHeap = 0;
const sampler = setInterval(
  () => {
    gc?.();
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  },
  gc ? 200 : 20,
);

async function sequential(): Promise<number> {
  const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1' });
  const overrides = new Map<string, string>();
  let token: string | undefined;
  let audited = 0;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: object.Key }));
      const expectation = expectationFor(object.Key, overrides);
      if (expectation) judgeContentType(object.Key, head.ContentType, expectation);
      audited += 1;
      if (limit > 0 && audited >= limit) return audited;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return audited;
}

async function watchkeeper(): Promise<number> {
  const config = definition.schema.parse({ buckets: [{ bucket }], concurrency });
  const outcome = await definition.run(
    localJobContext(definition, config, { runId: 'bench', budgetMs: 3_600_000, region: 'us-east-1' }),
  );
  const { objectsChecked = 0, objectsFailed = 0 } = outcome.stats;
  if (objectsFailed > 0) throw new Error(`${objectsFailed} objects failed`);
  return objectsChecked;
}

const started = performance.now();
const objects = mode === 'sequential' ? await sequential() : await watchkeeper();
const ms = performance.now() - started;
clearInterval(sampler);
console.log(
  JSON.stringify({
    mode,
    objects,
    ms: Math.round(ms),
    objectsPerSecond: Math.round((objects / ms) * 1000),
    cpuMs: Math.round((process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1000),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    peakHeapMb: Math.round((peakHeap / 1024 / 1024) * 10) / 10,
    heapKind: gc ? 'live' : 'used',
  }),
);
process.exit(0);
