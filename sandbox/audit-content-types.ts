/**
 * The audit-content-types sandbox: a demo bucket with broken and healthy objects for
 * `npm run demo`, and the local S3-compatible endpoint tests and the benchmark use: s3rver on an
 * ephemeral loopback port,
 * - optionally with a second port that answers every request after a fixed latency (real S3 is
 *   ~10–30 ms away; loopback is not), added inside s3rver so it costs no extra HTTP hop, and
 * - optionally behind a small HTTP front (tests) that fills two gaps in s3rver's CopyObject that
 *   matter here: it decodes `x-amz-copy-source` with decodeURI (so `%2B` stays `%2B` and a key
 *   with `+` is "not found"), and it ignores `x-amz-copy-source-if-match`. The front evaluates the
 *   condition against the stored ETag and answers 412 PreconditionFailed like S3, and hands
 *   s3rver a source it decodes correctly.
 */

import type { BinaryLike, CipherKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, type PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import type { DemoPart } from './demo-part.ts';

/** The part of s3rver's API used here (the package ships no types). */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  /** s3rver is a Koa application: its middleware stack and request listener. */
  middleware: Array<(ctx: { req: http.IncomingMessage }, next: () => Promise<void>) => Promise<void>>;
  callback(): http.RequestListener;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverServer;
const requireCjs = createRequire(import.meta.url);
const S3rver = requireCjs('s3rver') as S3rverConstructor;

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 only has in
 * its legacy provider, so every truncated listing (more than 1,000 keys) fails with InternalError.
 * Triple DES with three identical keys *is* single DES, and is in the default provider: route
 * s3rver's "des" calls there (nothing else can ask for "des" and work, so nothing else changes).
 */
function allowS3rverContinuationTokens(): void {
  const crypto = requireCjs('node:crypto') as typeof import('node:crypto');
  const marker = Symbol.for('watchkeeper.s3rver-des');
  const patched = crypto as unknown as Record<symbol, boolean>;
  if (patched[marker]) return;
  patched[marker] = true;
  const { createCipheriv, createDecipheriv } = crypto;
  const tripled = (key: unknown): Buffer => {
    const single = Buffer.from(key as Uint8Array);
    return Buffer.concat([single, single, single]);
  };
  crypto.createCipheriv = ((algorithm: string, key: CipherKey, iv: BinaryLike | null, options?: unknown) =>
    algorithm === 'des'
      ? createCipheriv('des-ede3-cbc', tripled(key), iv)
      : createCipheriv(algorithm, key, iv, options as undefined)) as typeof crypto.createCipheriv;
  crypto.createDecipheriv = ((algorithm: string, key: CipherKey, iv: BinaryLike | null, options?: unknown) =>
    algorithm === 'des'
      ? createDecipheriv('des-ede3-cbc', tripled(key), iv)
      : createDecipheriv(algorithm, key, iv, options as undefined)) as typeof crypto.createDecipheriv;
}

/** Options for `startLocalS3`. */
export interface LocalS3Options {
  buckets: string[];
  /** Also serve on `latencyEndpoint`, answering every request after this many milliseconds. */
  latencyMs?: number;
  /** Put the CopyObject-fidelity front in front of s3rver (`endpoint` is then the front). */
  front?: boolean;
  /** Called before a copy is forwarded (tests use it to replace the object in between). */
  beforeCopy?: (bucket: string, key: string) => Promise<void>;
  /** Answer the first N requests with 503 SlowDown, as S3 does while it re-partitions. */
  slowDownFirst?: number;
}

/** A running local endpoint. */
export interface LocalS3 {
  /** What clients should use as endpoint (the front when there is one). */
  endpoint: string;
  /** s3rver itself, bypassing the front. */
  directEndpoint: string;
  /** s3rver with `latencyMs` added to every request (when asked for). */
  latencyEndpoint?: string;
  /** Where s3rver keeps the objects (removed on close). */
  directory: string;
  /** Requests that reached the front, by method. */
  requests: Record<string, number>;
  client(options?: { maxAttempts?: number }): S3Client;
  close(): Promise<void>;
}

/** Dummy credentials s3rver accepts. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

function s3Error(status: number, code: string, message: string): { status: number; body: string } {
  return {
    status,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>local</RequestId></Error>`,
  };
}

function encodeKeyPath(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

function headEtag(upstream: AddressInfo, bucket: string, key: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: upstream.address,
        port: upstream.port,
        method: 'HEAD',
        path: `/${bucket}/${encodeKeyPath(key)}`,
      },
      (response) => {
        response.resume();
        const etag = response.headers.etag;
        resolve(response.statusCode === 200 && typeof etag === 'string' ? etag : undefined);
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/** Starts s3rver (and the front when asked) with the given buckets. */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  allowS3rverContinuationTokens();
  const directory = await mkdtemp(path.join(tmpdir(), 'watchkeeper-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    allowMismatchedSignatures: true,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  const latencyMs = options.latencyMs ?? 0;
  let latentPort = -1;
  if (latencyMs > 0) {
    // First in s3rver's Koa stack, so the delay is added before any of its work.
    server.middleware.unshift(async (ctx, next) => {
      if (ctx.req.socket.localPort === latentPort)
        await new Promise((resolve) => setTimeout(resolve, latencyMs));
      await next();
    });
  }
  const upstream = (await server.run()) as AddressInfo;
  let latent: http.Server | undefined;
  let latencyEndpoint: string | undefined;
  if (latencyMs > 0) {
    const latentServer = http.createServer(server.callback());
    latentServer.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => latentServer.listen(0, '127.0.0.1', resolve));
    latentPort = (latentServer.address() as AddressInfo).port;
    latencyEndpoint = `http://127.0.0.1:${latentPort}`;
    latent = latentServer;
  }
  const directEndpoint = `http://127.0.0.1:${upstream.port}`;
  const requests: Record<string, number> = {};
  let slowDowns = options.slowDownFirst ?? 0;
  let front: http.Server | undefined;
  let endpoint = directEndpoint;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

  if (options.front || options.slowDownFirst || options.beforeCopy) {
    front = http.createServer((request, response) => {
      const method = request.method ?? 'GET';
      requests[method] = (requests[method] ?? 0) + 1;
      const forward = async (): Promise<void> => {
        if (slowDowns > 0) {
          slowDowns -= 1;
          const error = s3Error(503, 'SlowDown', 'Please reduce your request rate.');
          request.resume();
          response.writeHead(error.status, { 'content-type': 'application/xml' }).end(error.body);
          return;
        }
        const headers = { ...request.headers };
        const copySource = headers['x-amz-copy-source'];
        if (method === 'PUT' && typeof copySource === 'string') {
          const [sourcePath = '', query = ''] = copySource.replace(/^\//, '').split('?');
          const decoded = decodeURIComponent(sourcePath);
          const slash = decoded.indexOf('/');
          const bucket = decoded.slice(0, slash);
          const key = decoded.slice(slash + 1);
          await options.beforeCopy?.(bucket, key);
          const wanted = headers['x-amz-copy-source-if-match'];
          if (typeof wanted === 'string') {
            const current = await headEtag(upstream, bucket, key);
            if (current !== wanted) {
              const error = s3Error(
                412,
                'PreconditionFailed',
                'At least one of the pre-conditions you specified did not hold',
              );
              request.resume();
              response.writeHead(error.status, { 'content-type': 'application/xml' }).end(error.body);
              return;
            }
          }
          // s3rver runs decodeURI on the header: give it exactly what decodes back to the key.
          headers['x-amz-copy-source'] = `${encodeURI(decoded)}${query === '' ? '' : `?${query}`}`;
        }
        const proxied = http.request(
          { host: upstream.address, port: upstream.port, method, path: request.url, headers, agent },
          (upstreamResponse) => {
            response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
            upstreamResponse.pipe(response);
          },
        );
        proxied.on('error', (error) => response.destroy(error));
        request.pipe(proxied);
      };
      forward().catch((error: unknown) =>
        response.destroy(error instanceof Error ? error : new Error(String(error))),
      );
    });
    front.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => front?.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  }

  const clients: S3Client[] = [];
  return {
    endpoint,
    directEndpoint,
    directory,
    ...(latencyEndpoint === undefined ? {} : { latencyEndpoint }),
    requests,
    client: ({ maxAttempts } = {}) => {
      const client = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: LOCAL_CREDENTIALS,
        ...(maxAttempts === undefined ? {} : { maxAttempts }),
      });
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const client of clients) client.destroy();
      agent.destroy();
      if (latent) {
        const closing = latent;
        closing.closeAllConnections();
        await new Promise<void>((resolve) => closing.close(() => resolve()));
      }
      if (front) {
        front.closeAllConnections();
        await new Promise<void>((resolve) => front?.close(() => resolve()));
      }
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The demo bucket. */
export const DEMO_BUCKET = 'demo-assets';

/** A 1×1 PNG: real magic numbers, so sniffing tells it from a JPEG. */
export const PNG_PIXEL = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0d3c1b80000000049454e44ae426082',
  'hex',
);

/** Seeds the demo bucket: three broken objects (the issue's examples) and healthy ones. */
export async function seedDemoBucket(s3: S3Client, bucket = DEMO_BUCKET): Promise<void> {
  const put = (
    Key: string,
    Body: string | Buffer,
    extra: Omit<PutObjectCommandInput, 'Bucket' | 'Key' | 'Body'>,
  ) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ...extra }));
  await Promise.all([
    // What an SDK upload without a type stores: binary/octet-stream. Cache-Control and metadata
    // are there to show that the fix keeps them.
    put('site/css/main.css', 'body { font-family: sans-serif; }\n', {
      CacheControl: 'public, max-age=31536000, immutable',
      Metadata: { 'build-id': '2026.11.22-1' },
    }),
    put('site/js/app.js', 'document.body.dataset.ready = "yes";\n', { ContentType: 'text/plain' }),
    put('site/img/logo.png', PNG_PIXEL, { ContentType: 'image/jpeg', CacheControl: 'public, max-age=86400' }),
    put('site/index.html', '<!doctype html><title>demo</title>\n', {
      ContentType: 'text/html; charset=utf-8',
    }),
    put('site/css/print.css', '@media print { nav { display: none; } }\n', {
      ContentType: 'text/css; charset=utf-8',
    }),
    put('site/img/icon.png', PNG_PIXEL, { ContentType: 'image/png' }),
    put('site/data/menu.json', '{"items":[]}\n', { ContentType: 'application/json' }),
  ]);
}

/** The demo part: a bucket with a typeless CSS, a JS typed text/plain and a PNG labelled JPEG. */
export const demoPart: DemoPart = {
  job: 'audit-content-types',
  async start() {
    const local = await startLocalS3({ buckets: [DEMO_BUCKET] });
    const seeder = local.client();
    await seedDemoBucket(seeder);
    const section = { buckets: [{ bucket: DEMO_BUCKET, prefix: 'site/' }], sniff: true, concurrency: 8 };
    return {
      section,
      env: {
        AWS_ENDPOINT_URL_S3: local.endpoint,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
      },
      followUp: {
        title: 'audit-content-types with fix: true (every other metadata field kept)',
        section: { ...section, fix: true },
      },
      close: () => local.close(),
    };
  },
};
