/**
 * check-certificates against real TLS endpoints on 127.0.0.x (certificates generated here), a
 * real DNS server for the host names, and real STARTTLS fronts. One job run covers the mixed
 * estate; each `it` asserts what it found for one endpoint.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-certificates/job.ts';
import { type RunningDnsServer, startDnsServer, type ZoneRecord } from '#sandbox/dns-server.ts';
import {
  createIntermediateCa,
  createLeaf,
  createRootCa,
  createTestPki,
  type IssuedCertificate,
  issueCertificate,
  type TestPki,
} from '#sandbox/pki.ts';
import { type RunningTlsEndpoint, startTlsEndpoint, type TlsEndpointOptions } from '#sandbox/tls-server.ts';
import type { Finding } from '#shared/findings.ts';
import type { JobOutcome } from '#shared/job.ts';
import { testContext } from '../support/context.ts';

const DAY = 86_400_000;
const ZONE = 'cert.test';
const NOW = new Date();

let pki: TestPki;
let dns: RunningDnsServer;
let tempDir: string;
let caFile: string;
let http: HttpServer;
const running: RunningTlsEndpoint[] = [];
const records: ZoneRecord[] = [];
const endpoints: Record<string, unknown>[] = [];
let outcome: JobOutcome;
let nextHost = 10;

/** Starts an endpoint on its own 127.0.0.x, registers `<name>.cert.test`, and adds it to the section. */
async function serve(
  name: string,
  options: Omit<TlsEndpointOptions, 'host'>,
  extra: Record<string, unknown> = {},
) {
  const host = `127.0.0.${nextHost++}`;
  const endpoint = await startTlsEndpoint({ ...options, host });
  running.push(endpoint);
  records.push({ name: `${name}.${ZONE}`, type: 'A', data: host });
  endpoints.push({ host: `${name}.${ZONE}`, port: endpoint.port, ...extra });
  return endpoint;
}

function leafFor(name: string, options: Parameters<TestPki['leaf']>[1] = {}): Promise<IssuedCertificate> {
  return pki.leaf([`${name}.${ZONE}`], options);
}

function findingsFor(name: string, port?: number): Finding[] {
  const prefix = `${name}.${ZONE}:`;
  return outcome.findings.filter(
    (finding) =>
      finding.target.startsWith(prefix) && (port === undefined || finding.target === `${prefix}${port}`),
  );
}

function codes(name: string): string[] {
  return findingsFor(name)
    .map((finding) => `${finding.code}:${finding.severity}`)
    .sort();
}

let divergentA: RunningTlsEndpoint;
let sniEndpoint: RunningTlsEndpoint;

beforeAll(async () => {
  pki = await createTestPki('cert job test');
  tempDir = await mkdtemp(join(tmpdir(), 'wk-certs-'));
  caFile = join(tempDir, 'ca.pem');
  await writeFile(caFile, pki.root.pem);

  // An HTTP server for AIA "CA Issuers" downloads, as CAs publish them.
  const aiaIntermediate = await createIntermediateCa('AIA Issuing CA', pki.root);
  http = createHttpServer((request, response) => {
    if (request.url === '/aia.der') {
      response.writeHead(200, { 'content-type': 'application/pkix-cert' }).end(aiaIntermediate.der);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const aiaUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/aia.der`;

  await serve('valid', { chain: pki.chain(await leafFor('valid')), alpn: ['h2', 'http/1.1'] });
  await serve('warning', {
    chain: pki.chain(
      await leafFor('warning', {
        notBefore: new Date(NOW.getTime() - 80 * DAY),
        notAfter: new Date(NOW.getTime() + 10 * DAY),
      }),
    ),
  });
  await serve('critical', {
    chain: pki.chain(
      await leafFor('critical', {
        notBefore: new Date(NOW.getTime() - 87 * DAY),
        notAfter: new Date(NOW.getTime() + 3 * DAY),
      }),
    ),
  });
  await serve('expired', {
    chain: pki.chain(
      await leafFor('expired', {
        notBefore: new Date('2020-01-01T00:00:00Z'),
        notAfter: new Date('2020-02-01T00:00:00Z'),
      }),
    ),
  });
  await serve('future', {
    chain: pki.chain(
      await leafFor('future', {
        notBefore: new Date(NOW.getTime() + 2 * DAY),
        notAfter: new Date(NOW.getTime() + 90 * DAY),
      }),
    ),
  });
  await serve('wronghost', { chain: pki.chain(await pki.leaf([`other.${ZONE}`])) });
  await serve('wildcard', { chain: pki.chain(await pki.leaf([`*.${ZONE}`])) });
  await serve('selfsigned', { chain: [await createLeaf([`selfsigned.${ZONE}`], undefined)] });
  const otherRoot = await createRootCa('Unknown Root CA');
  const otherIntermediate = await createIntermediateCa('Unknown Issuing CA', otherRoot);
  await serve('unknownca', {
    chain: [await createLeaf([`unknownca.${ZONE}`], otherIntermediate), otherIntermediate],
  });
  await serve('nointermediate', { chain: [await leafFor('nointermediate')] });
  await serve('aia', {
    chain: [
      await createLeaf([`aia.${ZONE}`], aiaIntermediate, { caIssuersUrl: aiaUrl, keyPair: pki.leafKey }),
    ],
  });

  // Valid path leaf → intermediate → root, plus a served, long-expired cross-certificate of the
  // root by an old root nobody trusts: the AddTrust / DST Root X3 situation.
  const oldRoot = await createRootCa('Old Root CA');
  const cross = await issueCertificate({
    commonName: pki.root.spec.commonName,
    ...(pki.root.spec.organization === undefined ? {} : { organization: pki.root.spec.organization }),
    isCa: true,
    issuer: oldRoot,
    keyPair: pki.root.keyPair,
    notBefore: new Date('2015-01-01T00:00:00Z'),
    notAfter: new Date('2020-05-30T10:48:38Z'),
  });
  await serve('crosssigned', { chain: [await leafFor('crosssigned'), pki.intermediate, cross] });

  const shortIntermediate = await createIntermediateCa('Short-lived Issuing CA', pki.root, {
    notAfter: new Date(NOW.getTime() + 5 * DAY),
  });
  await serve('intermediate-expiring', {
    chain: [
      await createLeaf([`intermediate-expiring.${ZONE}`], shortIntermediate, { keyPair: pki.leafKey }),
      shortIntermediate,
    ],
  });
  await serve('sha1', { chain: pki.chain(await leafFor('sha1', { hash: 'SHA-1' })) });
  await serve('rsa1024', {
    chain: pki.chain(await leafFor('rsa1024', { key: { type: 'rsa', bits: 1024 } })),
  });
  await serve('legacy', {
    chain: pki.chain(await leafFor('legacy')),
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
  });

  // A 24-hour certificate with 20 hours left: fine under the lifetime-relative threshold.
  await serve('shortlived', {
    chain: pki.chain(
      await leafFor('shortlived', {
        notBefore: new Date(NOW.getTime() - 4 * 3_600_000),
        notAfter: new Date(NOW.getTime() + 20 * 3_600_000),
      }),
    ),
  });

  // Two A records, two servers on the same port: one serves the renewed certificate, one the old.
  divergentA = await startTlsEndpoint({ host: '127.0.0.201', chain: pki.chain(await leafFor('divergent')) });
  const divergentB = await startTlsEndpoint({
    host: '127.0.0.202',
    port: divergentA.port,
    chain: pki.chain(
      await leafFor('divergent', {
        notBefore: new Date(NOW.getTime() - 85 * DAY),
        notAfter: new Date(NOW.getTime() + 5 * DAY),
      }),
    ),
  });
  running.push(divergentA, divergentB);
  records.push(
    { name: `divergent.${ZONE}`, type: 'A', data: '127.0.0.201' },
    { name: `divergent.${ZONE}`, type: 'A', data: '127.0.0.202' },
  );
  endpoints.push({ host: `divergent.${ZONE}`, port: divergentA.port });

  // STARTTLS fronts: SMTP with a multi-line greeting and STARTTLS on the last EHLO line.
  await serve('smtp', { chain: pki.chain(await leafFor('smtp')), protocol: 'smtp' }, { protocol: 'smtp' });
  await serve(
    'smtp-nostarttls',
    { chain: pki.chain(await leafFor('smtp-nostarttls')), protocol: 'smtp', offerStartTls: false },
    { protocol: 'smtp' },
  );
  for (const protocol of ['imap', 'pop3', 'ftp', 'ldap', 'postgres', 'mysql', 'xmpp'] as const) {
    await serve(protocol, { chain: pki.chain(await leafFor(protocol)), protocol }, { protocol });
  }
  await serve(
    'postgres-nossl',
    { chain: pki.chain(await leafFor('postgres-nossl')), protocol: 'postgres', offerStartTls: false },
    {
      protocol: 'postgres',
    },
  );

  // MySQL whose client certificate has the server's CN (mysql_ssl_rsa_setup defaults did this).
  const mysqlLeaf = await leafFor('mysql-clash');
  const clientCertificate = await pki.leaf([`mysql-clash.${ZONE}`]);
  const clientFile = join(tempDir, 'client.pem');
  await writeFile(clientFile, clientCertificate.pem);
  await serve(
    'mysql-clash',
    { chain: pki.chain(mysqlLeaf), protocol: 'mysql' },
    { protocol: 'mysql', clientCertificateFile: clientFile },
  );

  // IP literal endpoint, certificate with an IP SAN: no SNI, matched against the IP.
  const ipLeaf = await pki.leaf(['ip-only.cert.test', '127.0.0.150']);
  const ipEndpoint = await startTlsEndpoint({ host: '127.0.0.150', chain: pki.chain(ipLeaf) });
  running.push(ipEndpoint);
  endpoints.push({ host: '127.0.0.150', port: ipEndpoint.port });

  // SNI: the server picks the certificate by name; probing by address must still send the name.
  sniEndpoint = await serve('sni', {
    chain: pki.chain(await pki.leaf([`default.${ZONE}`])),
    sni: { [`sni.${ZONE}`]: pki.chain(await leafFor('sni')) },
  });

  // Failures: accepts and never speaks; nothing listening; a name without address.
  await serve('silent', { chain: pki.chain(await leafFor('silent')), behaviour: 'silent' });
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.199', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  records.push({ name: `closed.${ZONE}`, type: 'A', data: '127.0.0.199' });
  endpoints.push({ host: `closed.${ZONE}`, port: closedPort });
  endpoints.push({ host: `missing.${ZONE}`, port: 443 });

  dns = await startDnsServer({ records });
  const context = testContext(
    definition,
    { endpoints, caFile, resolver: dns.address, timeoutSeconds: 2, addressFamilies: ['ipv4'] },
    { now: NOW },
  );
  outcome = await definition.run(context);
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((endpoint) => endpoint.close()));
  await dns?.close();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

describe('check-certificates against a mixed loopback estate', () => {
  it('reports a valid certificate as one ok finding with its key figures, protocol, cipher and ALPN', () => {
    const [ok, ...rest] = findingsFor('valid');
    expect(rest).toEqual([]);
    expect(ok?.code).toBe('certificate.ok');
    expect(ok?.severity).toBe('ok');
    expect(ok?.message).toMatch(
      /^The certificate of valid\.cert\.test:\d+ is valid for \d+ days \(until \d{4}-\d\d-\d\d \d\d:\d\d UTC\), issued by cert job test Issuing CA 1\.$/,
    );
    expect(ok?.data).toMatchObject({
      subject: 'valid.cert.test',
      tls: { version: 'TLSv1.3', alpn: 'h2' },
      addresses: ['127.0.0.10'],
    });
    expect((ok?.data?.['daysLeft'] as number) > 80).toBe(true);
  });

  it('warns 10 days before expiry and is critical 3 days before, with a rounded duration', () => {
    expect(codes('warning')).toEqual(['certificate.expiring:warning']);
    expect(findingsFor('warning')[0]?.message).toMatch(/expires in (9 days 23 hours|10 days)/);
    expect(codes('critical')).toEqual(['certificate.expiring:critical']);
    expect(findingsFor('critical')[0]?.message).toMatch(/expires in 2 days 23 hours \(/);
  });

  it('reports an expired certificate as expired with its date, never as a connection error', () => {
    expect(codes('expired')).toEqual(['certificate.expired:critical']);
    expect(findingsFor('expired')[0]?.message).toMatch(/expired \d+ days ago \(2020-02-01 00:00 UTC\)/);
  });

  it('reports a certificate that is not valid yet', () => {
    expect(codes('future')).toEqual(['certificate.not-yet-valid:critical']);
  });

  it('checks the host name like tls.checkServerIdentity, wildcards included', () => {
    expect(codes('wronghost')).toEqual(['certificate.hostname-mismatch:critical']);
    expect(findingsFor('wronghost')[0]?.message).toContain('is not valid for wronghost.cert.test');
    expect(codes('wildcard')).toEqual(['certificate.ok:ok']);
  });

  it('tells self-signed, unknown CA and a missing intermediate apart', () => {
    expect(codes('selfsigned')).toEqual(['certificate.self-signed:critical']);
    expect(codes('unknownca')).toEqual(['certificate.untrusted:critical']);
    expect(findingsFor('unknownca')[0]?.message).toContain('"Unknown Root CA"');
    expect(codes('nointermediate')).toEqual(['certificate.incomplete-chain:critical']);
    expect(findingsFor('nointermediate')[0]?.message).toContain('cert job test Issuing CA 1');
  });

  it('fetches a missing intermediate over AIA and still calls the chain incomplete', () => {
    const [finding, ...rest] = findingsFor('aia');
    expect(rest).toEqual([]);
    expect(finding?.code).toBe('certificate.incomplete-chain');
    expect(finding?.message).toContain('does not send the intermediate "AIA Issuing CA"');
    expect(finding?.data?.['path']).toMatchObject([
      { source: 'served' },
      { source: 'aia' },
      { source: 'trust-store' },
    ]);
  });

  it('judges the verified path, not the expired cross-certificate the server also sends', () => {
    expect(codes('crosssigned')).toEqual(['certificate.served-chain-anomaly:warning']);
    expect(findingsFor('crosssigned')[0]?.message).toMatch(
      /also sends "cert job test Root CA", which expired .* ago and is not on the verified path/,
    );
  });

  it('reports an intermediate that expires before the leaf', () => {
    expect(codes('intermediate-expiring')).toEqual(['certificate.chain-expiring:critical']);
    expect(findingsFor('intermediate-expiring')[0]?.message).toMatch(
      /intermediate "Short-lived Issuing CA" .* expires in 4 days 23 hours .* before the leaf/,
    );
  });

  it('flags SHA-1 signatures, 1024-bit keys and legacy TLS', () => {
    expect(codes('sha1')).toEqual(['certificate.weak-signature:critical']);
    expect(findingsFor('sha1')[0]?.message).toContain('SHA-1');
    expect(codes('rsa1024')).toEqual(['certificate.weak-key:critical']);
    expect(findingsFor('rsa1024')[0]?.message).toContain('1024-bit RSA key');
    expect(codes('legacy')).toEqual(['certificate.legacy-tls:critical']);
    expect(findingsFor('legacy')[0]?.message).toContain('offers at best TLSv1.1');
  });

  it('applies thresholds relative to the lifetime: a 24-hour certificate with 20 hours left is fine', () => {
    expect(codes('shortlived')).toEqual(['certificate.ok:ok']);
  });

  it('probes every address and names the one serving a different certificate', () => {
    const findings = findingsFor('divergent');
    expect(findings.map((finding) => `${finding.code}:${finding.subject ?? ''}`).sort()).toEqual([
      'certificate.divergent:',
      'certificate.expiring:127.0.0.202',
    ]);
    const divergent = findings.find((finding) => finding.code === 'certificate.divergent');
    expect(divergent?.message).toContain('serves 2 different certificates across 2 addresses');
    expect(findings.find((finding) => finding.code === 'certificate.expiring')?.message).toContain(
      `divergent.cert.test:${divergentA.port} at 127.0.0.202`,
    );
  });

  it('negotiates STARTTLS for SMTP (multi-line greeting, STARTTLS last) and every other protocol', () => {
    for (const protocol of ['smtp', 'imap', 'pop3', 'ftp', 'ldap', 'postgres', 'mysql', 'xmpp']) {
      expect({ protocol, codes: codes(protocol) }).toEqual({ protocol, codes: ['certificate.ok:ok'] });
    }
    expect(findingsFor('mysql')[0]?.data?.['protocol']).toBe('mysql');
  });

  it('reports a server that does not offer STARTTLS as starttls-failed', () => {
    expect(codes('smtp-nostarttls')).toEqual(['endpoint.starttls-failed:critical']);
    expect(findingsFor('smtp-nostarttls')[0]?.message).toContain('does not offer STARTTLS');
    expect(codes('postgres-nossl')).toEqual(['endpoint.starttls-failed:critical']);
    expect(findingsFor('postgres-nossl')[0]?.message).toContain('answered N');
  });

  it('explains the MySQL CN clash and ERROR 2026', () => {
    expect(codes('mysql-clash')).toEqual(['certificate.mysql-cn-clash:critical']);
    expect(findingsFor('mysql-clash')[0]?.message).toContain('ERROR 2026 (HY000): SSL connection error');
  });

  it('matches an IP-literal endpoint against IP SANs', () => {
    const findings = outcome.findings.filter((finding) => finding.target.startsWith('127.0.0.150:'));
    expect(findings.map((finding) => finding.code)).toEqual(['certificate.ok']);
    expect(findings[0]?.data?.['sni']).toBeNull();
  });

  it('sends the host name as SNI when connecting by address', () => {
    expect(codes('sni')).toEqual(['certificate.ok:ok']);
    expect(sniEndpoint.servernames).toContain(`sni.${ZONE}`);
    for (const endpoint of running)
      for (const name of endpoint.servernames) expect(name).not.toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('reports a silent port as a timeout and a closed port as unreachable, both unknown', () => {
    expect(codes('silent')).toEqual(['endpoint.timeout:unknown']);
    expect(findingsFor('silent')[0]?.message).toContain('no TLS handshake within 2 s');
    expect(codes('closed')).toEqual(['endpoint.unreachable:unknown']);
    expect(findingsFor('closed')[0]?.message).toContain('refused the connection');
  });

  it('reports a name without addresses as a DNS failure', () => {
    expect(codes('missing')).toEqual(['dns.lookup-failed:critical']);
    expect(findingsFor('missing')[0]?.message).toContain('NXDOMAIN');
  });

  it('counts what it did', () => {
    expect(outcome.stats['endpoints']).toBe(endpoints.length);
    expect(outcome.stats['probeFailures']).toBe(4);
    expect(outcome.incomplete).toBeUndefined();
  });
});
