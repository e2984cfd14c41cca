/**
 * check-certificates in `npm run demo`: the shop at demo.watchkeeper.test runs TLS endpoints on
 * 127.0.10.x with certificates from a private CA (trusted through `caFile`, which is what the
 * setting is for): a healthy site on two addresses, an API that expires in days, a forgotten
 * expired host, a wrong name, a self-signed admin panel, a server that omits its intermediate, a
 * half-deployed renewal behind round-robin DNS, an SMTP server with STARTTLS, PostgreSQL, and a
 * port that accepts and never answers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DemoPart } from './demo-part.ts';
import type { ZoneRecord } from './dns-server.ts';
import { createIntermediateCa, createLeaf, createTestPki } from './pki.ts';
import { type RunningTlsEndpoint, startTlsEndpoint, type TlsEndpointOptions } from './tls-server.ts';

const ZONE = 'demo.watchkeeper.test';
const DAY = 86_400_000;

/** Host name → loopback addresses; the DNS records and the servers both come from this. */
const HOSTS: Readonly<Record<string, readonly string[]>> = {
  www: ['127.0.10.1', '127.0.10.2'],
  api: ['127.0.10.3'],
  legacy: ['127.0.10.4'],
  intranet: ['127.0.10.5'],
  admin: ['127.0.10.6'],
  billing: ['127.0.10.7'],
  shop: ['127.0.10.8', '127.0.10.9'],
  mail: ['127.0.10.10'],
  db: ['127.0.10.11'],
  vpn: ['127.0.10.12'],
  status: ['127.0.10.13'],
};

const records: ZoneRecord[] = Object.entries(HOSTS).flatMap(([name, addresses]) =>
  addresses.map((address) => ({ name: `${name}.${ZONE}`, type: 'A' as const, data: address })),
);

/** The certificates part of the demo. */
export const demoPart: DemoPart = {
  job: 'check-certificates',
  records,
  async start({ resolver }) {
    const now = Date.now();
    const pki = await createTestPki('Demo Shop');
    const name = (host: string) => `${host}.${ZONE}`;
    const leaf = (host: string, options: Parameters<typeof pki.leaf>[1] = {}) =>
      pki.leaf([name(host)], options);
    const running: RunningTlsEndpoint[] = [];
    const endpoints: Record<string, unknown>[] = [];

    /** Starts `host` on each of its addresses (same port on all), with per-address chains. */
    const serve = async (
      host: string,
      options: Omit<TlsEndpointOptions, 'host' | 'port'>,
      perAddress: Partial<TlsEndpointOptions>[] = [],
      section: Record<string, unknown> = {},
    ) => {
      let port: number | undefined;
      for (const [index, address] of (HOSTS[host] ?? []).entries()) {
        const endpoint = await startTlsEndpoint({
          ...options,
          ...perAddress[index],
          host: address,
          ...(port === undefined ? {} : { port }),
        });
        port = endpoint.port;
        running.push(endpoint);
      }
      endpoints.push({ host: name(host), port, ...section });
    };

    await serve('www', { chain: pki.chain(await leaf('www')), alpn: ['h2', 'http/1.1'] });
    await serve('api', {
      chain: pki.chain(
        await leaf('api', {
          notBefore: new Date(now - 85 * DAY),
          notAfter: new Date(now + 5 * DAY + 4 * 3_600_000),
        }),
      ),
    });
    await serve('legacy', {
      chain: pki.chain(
        await leaf('legacy', { notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - 12 * DAY) }),
      ),
    });
    await serve('intranet', { chain: pki.chain(await pki.leaf([name('www')])) });
    await serve('admin', { chain: [await createLeaf([name('admin')], undefined)] });
    await serve('billing', { chain: [await leaf('billing')] });
    await serve('shop', { chain: pki.chain(await leaf('shop')) }, [
      {},
      {
        chain: pki.chain(
          await leaf('shop', { notBefore: new Date(now - 75 * DAY), notAfter: new Date(now + 15 * DAY) }),
        ),
      },
    ]);
    await serve('mail', { chain: pki.chain(await leaf('mail')), protocol: 'smtp' }, [], { protocol: 'smtp' });
    await serve('db', { chain: pki.chain(await leaf('db')), protocol: 'postgres' }, [], {
      protocol: 'postgres',
    });
    // An intermediate that expires long before the leaves it signed.
    const oldIntermediate = await createIntermediateCa('Demo Shop Issuing CA 0', pki.root, {
      notAfter: new Date(now + 4 * DAY),
    });
    await serve('vpn', {
      chain: [await createLeaf([name('vpn')], oldIntermediate, { keyPair: pki.leafKey }), oldIntermediate],
    });
    await serve('status', { chain: pki.chain(await leaf('status')), behaviour: 'silent' });

    const directory = await mkdtemp(join(tmpdir(), 'watchkeeper-demo-ca-'));
    const caFile = join(directory, 'demo-shop-root.pem');
    await writeFile(caFile, pki.root.pem);
    return {
      section: { resolver, caFile, timeoutSeconds: 2, addressFamilies: ['ipv4'], endpoints },
      async close() {
        await Promise.all(running.map((endpoint) => endpoint.close()));
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
};
