/**
 * audit-content-types against a sequential HeadObject loop (how the usual fixer scripts work),
 * in one run, on the same buckets:
 * - against raw s3rver on loopback, and
 * - against the same s3rver behind a front that adds a fixed per-request latency (default 20 ms,
 *   about what a Lambda sees from S3), because on loopback s3rver's own CPU is the bottleneck.
 * Then peak memory of the audit at 2,000 and at 20,000 objects. Each measurement runs in its own
 * process (bench/content-types/run.ts) so memory and CPU are the auditor's alone.
 *
 *   node bench/content-types.ts [--objects=20000] [--latency=20] [--concurrency=32] [--sequential-limit=2000]
 *
 * `--sequential-limit` bounds the sequential loop behind the latency front (20,000 HEADs at 20 ms
 * take over 7 minutes; a sequential loop's rate does not change with the count). 0 = all objects.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { PNG_PIXEL, startLocalS3 } from '#sandbox/audit-content-types.ts';

const run = promisify(execFile);

function option(name: string, fallback: number): number {
  const match = process.argv.find((argument) => argument.startsWith(`--${name}=`));
  return match === undefined ? fallback : Number(match.split('=')[1]);
}

const OBJECTS = option('objects', 20_000);
const SMALL = option('small', 2_000);
const LATENCY_MS = option('latency', 20);
const CONCURRENCY = option('concurrency', 32);
const SEQUENTIAL_LIMIT = option('sequential-limit', 2_000);

interface Measurement {
  mode: string;
  objects: number;
  ms: number;
  objectsPerSecond: number;
  cpuMs: number;
  maxRssMb: number;
  peakHeapMb: number;
  heapKind: 'live' | 'used';
}

/** A realistic static-site mix; one object in a hundred has a broken type. */
function objectFor(index: number): Omit<PutObjectCommandInput, 'Bucket'> {
  const broken = index % 100 === 0;
  const kinds = [
    { ext: 'css', type: 'text/css; charset=utf-8', body: 'a{color:red}' },
    { ext: 'js', type: 'text/javascript; charset=utf-8', body: 'export {};' },
    { ext: 'html', type: 'text/html; charset=utf-8', body: '<!doctype html>' },
    { ext: 'png', type: 'image/png', body: PNG_PIXEL },
    { ext: 'svg', type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' },
    { ext: 'woff2', type: 'font/woff2', body: 'wOF2' },
  ] as const;
  const kind = kinds[index % kinds.length] ?? kinds[0];
  return {
    Key: `site/${String(Math.floor(index / 500)).padStart(3, '0')}/asset-${index}.${kind.ext}`,
    Body: kind.body,
    ...(broken ? { ContentType: 'binary/octet-stream' } : { ContentType: kind.type }),
  };
}

async function seed(s3: S3Client, bucket: string, count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await s3.send(new PutObjectCommand({ Bucket: bucket, ...objectFor(index) }));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function measure(
  mode: 'watchkeeper' | 'sequential',
  endpoint: string,
  bucket: string,
  limit = 0,
  liveHeap = false,
): Promise<Measurement> {
  const script = path.join(import.meta.dirname, 'content-types', 'run.ts');
  const { stdout } = await run(
    process.execPath,
    [
      ...(liveHeap ? ['--expose-gc'] : []),
      script,
      mode,
      endpoint,
      bucket,
      String(limit),
      String(CONCURRENCY),
    ],
    { maxBuffer: 1024 * 1024, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const line = stdout.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(line) as Measurement;
}

function row(label: string, m: Measurement): string {
  return `${label.padEnd(44)} ${String(m.objects).padStart(6)} objects ${String(m.ms).padStart(7)} ms ${String(m.objectsPerSecond).padStart(6)} obj/s  client CPU ${m.cpuMs} ms  peak RSS ${m.maxRssMb} MB, ${m.heapKind} heap ${m.peakHeapMb} MB`;
}

const local = await startLocalS3({ buckets: ['bench-large', 'bench-small'], latencyMs: LATENCY_MS });
try {
  const seeder = local.client();
  const seedStart = performance.now();
  await seed(seeder, 'bench-large', OBJECTS);
  await seed(seeder, 'bench-small', SMALL);
  seeder.destroy();
  console.log(
    `audit-content-types benchmark — ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()[0]?.toFixed(1)} at start`,
  );
  console.log(
    `seeded ${OBJECTS} + ${SMALL} objects into s3rver in ${Math.round(performance.now() - seedStart)} ms; watchkeeper concurrency ${CONCURRENCY}\n`,
  );

  const rawWatchkeeper = await measure('watchkeeper', local.directEndpoint, 'bench-large');
  const rawSequential = await measure('sequential', local.directEndpoint, 'bench-large');
  console.log(`raw s3rver on loopback (s3rver's CPU is the limit)`);
  console.log(row('  watchkeeper (streamed, bounded concurrency)', rawWatchkeeper));
  console.log(row('  sequential HeadObject loop', rawSequential));
  console.log(`  ratio: ${(rawWatchkeeper.objectsPerSecond / rawSequential.objectsPerSecond).toFixed(1)}×\n`);

  const latent = local.latencyEndpoint ?? local.endpoint;
  const slowWatchkeeper = await measure('watchkeeper', latent, 'bench-large');
  const slowSequential = await measure('sequential', latent, 'bench-large', SEQUENTIAL_LIMIT);
  console.log(`S3-compatible endpoint with ${LATENCY_MS} ms per request (s3rver delaying every answer)`);
  console.log(row('  watchkeeper (streamed, bounded concurrency)', slowWatchkeeper));
  console.log(
    row(
      `  sequential HeadObject loop${SEQUENTIAL_LIMIT > 0 ? ` (first ${SEQUENTIAL_LIMIT})` : ''}`,
      slowSequential,
    ),
  );
  console.log(
    `  ratio: ${(slowWatchkeeper.objectsPerSecond / slowSequential.objectsPerSecond).toFixed(1)}×\n`,
  );

  const small = await measure('watchkeeper', local.directEndpoint, 'bench-small', 0, true);
  const large = await measure('watchkeeper', local.directEndpoint, 'bench-large', 0, true);
  console.log('memory of the audit process (raw s3rver)');
  console.log(row(`  watchkeeper, ${SMALL} objects`, small));
  console.log(row(`  watchkeeper, ${OBJECTS} objects`, large));
  const rssGrowth = (large.maxRssMb / small.maxRssMb - 1) * 100;
  const heapGrowth = (large.peakHeapMb / small.peakHeapMb - 1) * 100;
  console.log(
    `  peak RSS ${rssGrowth >= 0 ? '+' : ''}${rssGrowth.toFixed(1)}%, peak heap ${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)}% for ${OBJECTS / SMALL}× the objects`,
  );
} finally {
  await local.close();
}
