/**
 * check-dns against Debian's unbound, the resolver many operators run: the same test zones as the
 * default suite, served as unbound `local-data` from a temporary config, plus stub zones pointing
 * at sandbox servers that SERVFAIL or never answer (so unbound's own failure answers are seen).
 * One unbound in the foreground on a loopback high port, stopped afterwards; the system service is
 * never touched. Needs the `unbound` package (CI installs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-dns/job.ts';
import { type RunningDnsServer, startDnsServer, type ZoneRecord } from '#sandbox/dns-server.ts';
import { DnsClient } from '#shared/dns/client.ts';
import type { Finding } from '#shared/findings.ts';
import { address, mx, testZones, txt } from '../check-dns/zones.ts';
import { testContext } from '../support/context.ts';

const UNBOUND = '/usr/sbin/unbound';

/** The split delegation of test/check-dns/authoritative.test.ts, resolver side. */
const SPLIT: ZoneRecord[] = [
  { name: 'split.test', type: 'NS', data: 'ns1.split.test' },
  { name: 'split.test', type: 'NS', data: 'ns2.split.test' },
  address('ns1.split.test', '127.0.0.2'),
  address('ns2.split.test', '127.0.0.3'),
  mx('split.test', 10, 'mx.split.test'),
  address('mx.split.test', '192.0.2.91'),
  address('split.test', '192.0.2.90'),
  txt('split.test', 'v=spf1 mx -all'),
  txt('_dmarc.split.test', 'v=DMARC1; p=reject'),
];

/** A record in zone-file form for unbound's local-data. */
function zoneLine(record: ZoneRecord): string {
  const ttl = record.ttl ?? 300;
  const owner = `${record.name}.`;
  const fqdn = (name: string) => (name === '.' ? '.' : `${name.replace(/\.$/, '')}.`);
  switch (record.type) {
    case 'A':
    case 'AAAA':
      return `${owner} ${ttl} IN ${record.type} ${String(record.data)}`;
    case 'NS':
    case 'PTR':
    case 'CNAME':
      return `${owner} ${ttl} IN ${record.type} ${fqdn(String(record.data))}`;
    case 'MX': {
      const data = record.data as { preference: number; exchange: string };
      return `${owner} ${ttl} IN MX ${data.preference} ${fqdn(data.exchange)}`;
    }
    case 'TXT': {
      const chunks = Array.isArray(record.data) ? (record.data as string[]) : [String(record.data)];
      return `${owner} ${ttl} IN TXT ${chunks.map((chunk) => `"${chunk.replace(/"/g, '\\"')}"`).join(' ')}`;
    }
    case 'CAA': {
      const data = record.data as { flags: number; tag: string; value: string };
      return `${owner} ${ttl} IN CAA ${data.flags} ${data.tag} "${data.value}"`;
    }
    default:
      throw new Error(`no zone-file form for ${record.type} in this test`);
  }
}

async function freePort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

let directory: string;
let unbound: ChildProcess | undefined;
let resolver: string;
let failing: RunningDnsServer;
let ns1: RunningDnsServer;
let ns2: RunningDnsServer;
let unboundLog = '';

beforeAll(async () => {
  // The interop suite exists to run against the real daemon: missing is a failure, not a skip.
  if (!existsSync(UNBOUND)) throw new Error(`${UNBOUND} not found: apt-get install unbound`);
  failing = await startDnsServer({
    records: [],
    misbehaviours: [
      { name: 'servfail.test', action: 'servfail' },
      { name: '*.servfail.test', action: 'servfail' },
      { name: 'silent.test', action: 'drop' },
      { name: '*.silent.test', action: 'drop' },
    ],
  });
  // The two authoritative servers of split.test, on one port (see the default suite).
  ns1 = await startDnsServer({ host: '127.0.0.2', records: SPLIT.filter((record) => record.type !== 'NS') });
  ns2 = await startDnsServer({
    host: '127.0.0.3',
    port: ns1.port,
    records: [address('split.test', '198.51.100.90'), txt('split.test', 'v=spf1 -all')],
  });

  directory = await mkdtemp(join(tmpdir(), 'watchkeeper-unbound-'));
  const port = await freePort();
  const records = [...testZones(), ...SPLIT].filter((record) => record.type !== 'CNAME');
  const config = [
    'server:',
    '  interface: 127.0.0.1',
    `  port: ${port}`,
    '  do-ip6: no',
    '  do-daemonize: no',
    '  chroot: ""',
    '  username: ""',
    `  directory: "${directory}"`,
    `  pidfile: "${join(directory, 'unbound.pid')}"`,
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 1',
    '  access-control: 127.0.0.0/8 allow',
    '  module-config: "iterator"',
    '  do-not-query-localhost: no',
    '  local-zone: "test." static',
    '  local-zone: "2.0.192.in-addr.arpa." static',
    '  local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." static',
    // Names that unbound must resolve through a misbehaving server, not answer itself.
    '  local-zone: "servfail.test." transparent',
    '  local-zone: "silent.test." transparent',
    ...records.map((record) => `  local-data: '${zoneLine(record)}'`),
    'stub-zone:',
    '  name: "servfail.test."',
    `  stub-addr: 127.0.0.1@${failing.port}`,
    'stub-zone:',
    '  name: "silent.test."',
    `  stub-addr: 127.0.0.1@${failing.port}`,
    'remote-control:',
    '  control-enable: no',
    '',
  ].join('\n');
  const file = join(directory, 'unbound.conf');
  await writeFile(file, config);
  const child = spawn(UNBOUND, ['-d', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  unbound = child;
  child.stdout?.on('data', (chunk: Buffer) => {
    unboundLog += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    unboundLog += chunk.toString();
  });
  resolver = `127.0.0.1:${port}`;
  const probe = new DnsClient({ servers: [resolver], timeoutMs: 200, retries: 0 });
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`unbound exited: ${unboundLog}`);
    if ((await probe.query('good.test', 'MX')).status === 'answer') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`unbound did not answer: ${unboundLog}`);
});

afterAll(async () => {
  if (unbound && unbound.exitCode === null) {
    const exited = new Promise((resolve) => unbound?.once('exit', resolve));
    unbound.kill('SIGTERM');
    await exited;
  }
  await Promise.all([failing?.close(), ns1?.close(), ns2?.close()]);
  if (directory) await rm(directory, { recursive: true, force: true });
});

async function run(domains: unknown[], extra: Record<string, unknown> = {}): Promise<Finding[]> {
  const ctx = testContext(definition, { resolver, timeoutMs: 3000, retries: 1, domains, ...extra });
  return (await definition.run(ctx)).findings;
}

function codes(findings: readonly Finding[]): string[] {
  return findings.map((finding) => `${finding.code}:${finding.severity}`).sort();
}

describe('check-dns through unbound', () => {
  it('reports a healthy domain as dns.ok', async () => {
    const findings = await run([
      {
        name: 'good.test',
        records: { MX: ['10 mx1.good.test'], AAAA: ['2001:db8::80'], CAA: ['0 issue "letsencrypt.org"'] },
        mail: {
          senders: [
            { ip: '192.0.2.25', hostname: 'mx1.good.test' },
            { ip: '2001:db8::25', hostname: 'mx1.good.test' },
          ],
          dkimSelectors: ['s1'],
        },
      },
    ]);
    expect(codes(findings)).toEqual(['dns.ok:ok']);
  });

  it('reports the lost MX, the null MX and an MX host without address', async () => {
    const findings = await run([
      { name: 'lost.test', records: { MX: ['10 mx1.lost.test'] }, mail: {} },
      { name: 'nullmx.test', mail: {} },
      { name: 'noaddr.test', mail: {} },
    ]);
    const byTarget = (target: string) => codes(findings.filter((finding) => finding.target === target));
    expect(byTarget('lost.test')).toEqual(['dns.record-missing:critical', 'mail.mx-missing:critical']);
    expect(byTarget('nullmx.test')).toEqual(['dns.ok:ok', 'mail.mx-missing:info']);
    expect(byTarget('noaddr.test')).toEqual(['mail.mx-host-no-address:warning']);
  });

  it('counts SPF chains of 10 and 11 lookups, void lookups, a loop and two records', async () => {
    const send = (name: string) => ({ name, mail: { acceptsMail: false, dmarc: 'recommended' } });
    const findings = await run([
      send('chain10.test'),
      send('chain11.test'),
      send('void.test'),
      send('loop.test'),
      send('multi.test'),
    ]);
    const spf = (target: string) =>
      findings
        .filter((finding) => finding.target === target && finding.code.startsWith('mail.spf'))
        .map((finding) => finding.code);
    expect(spf('chain10.test')).toEqual([]);
    expect(spf('chain11.test')).toEqual(['mail.spf-too-many-lookups']);
    expect(spf('void.test')).toEqual(['mail.spf-void-lookups']);
    expect(spf('loop.test')).toEqual(['mail.spf-invalid']);
    expect(spf('multi.test')).toEqual(['mail.spf-multiple']);
  });

  it('evaluates senders through a redirect, and reports PTR and FCrDNS problems (IPv4 and IPv6)', async () => {
    const findings = await run([
      {
        name: 'redirect.test',
        mail: {
          acceptsMail: false,
          dmarc: 'recommended',
          senders: [{ ip: '192.0.2.20', hostname: 'mx1.good.test' }],
        },
      },
      {
        name: 'broken.test',
        mail: {
          senders: [
            { ip: '192.0.2.30', hostname: 'mx.broken.test' },
            { ip: '192.0.2.31', hostname: 'mx.broken.test' },
            { ip: '2001:db8::31', hostname: 'mx6.broken.test' },
          ],
        },
      },
    ]);
    // 192.0.2.20 passes SPF through the redirect; it has no PTR in the test zones.
    expect(codes(findings.filter((finding) => finding.target === 'redirect.test'))).toEqual([
      'mail.dmarc-missing:warning',
      'mail.ptr-missing:critical',
    ]);
    const broken = findings
      .filter((finding) => finding.target === 'broken.test')
      .map((finding) => `${finding.code}|${finding.subject}`)
      .sort();
    expect(broken).toEqual([
      'mail.fcrdns-failed|192.0.2.30',
      'mail.fcrdns-failed|2001:db8::31',
      'mail.ptr-mismatch|192.0.2.30',
      'mail.ptr-missing|192.0.2.31',
    ]);
  });

  it('inherits DMARC from the organisational domain and reads DKIM key sizes', async () => {
    const findings = await run([
      { name: 'child.nonepol.test', mail: {} },
      { name: 'good.test', mail: { dkimSelectors: ['weak', 'old'] } },
    ]);
    expect(codes(findings.filter((finding) => finding.target === 'child.nonepol.test'))).toEqual([
      'mail.dmarc-policy-none:warning',
    ]);
    expect(codes(findings.filter((finding) => finding.target === 'good.test'))).toEqual([
      'mail.dkim-missing:critical',
      'mail.dkim-weak-key:warning',
    ]);
  });

  it('reports SERVFAIL and an upstream that never answers as unknown, never as missing', async () => {
    const findings = await run(
      [
        { name: 'servfail.test', records: { MX: ['10 mx.servfail.test'] }, mail: {} },
        { name: 'silent.test', records: { A: ['192.0.2.1'] } },
      ],
      { timeoutMs: 1500, retries: 0 },
    );
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) {
      expect(`${finding.code}:${finding.severity}`).toBe('dns.lookup-failed:unknown');
    }
  });

  it('finds the stale NS of a split delegation that unbound hides', async () => {
    const findings = await run([{ name: 'split.test', records: { A: ['192.0.2.90'] }, mail: {} }], {
      authoritative: true,
      authoritativePort: ns1.port,
    });
    expect(findings.map((finding) => `${finding.code}|${finding.subject}`).sort()).toEqual([
      'dns.record-mismatch|A ns2.split.test (127.0.0.3)',
      'dns.record-missing|MX authoritative',
    ]);
  });
});
