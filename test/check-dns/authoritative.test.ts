import { createSocket, type Socket } from 'node:dgram';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-dns/job.ts';
import { type RunningDnsServer, startDnsServer, type ZoneRecord } from '#sandbox/dns-server.ts';
import type { Finding } from '#shared/findings.ts';
import { testContext } from '../support/context.ts';
import { address, mx, txt } from './zones.ts';

// A split delegation: split.test is delegated to ns1 (127.0.0.2) and ns2 (127.0.0.3). ns1 serves
// the new zone, ns2 still the old one without MX. The resolver's view (like a warm cache) is the new
// zone, so only asking each NS directly shows that half the world's senders find no MX.
const delegation: ZoneRecord[] = [
  { name: 'split.test', type: 'NS', data: 'ns1.split.test' },
  { name: 'split.test', type: 'NS', data: 'ns2.split.test' },
  address('ns1.split.test', '127.0.0.2'),
  address('ns2.split.test', '127.0.0.3'),
  { name: 'agree.test', type: 'NS', data: 'ns1.split.test' },
  { name: 'agree.test', type: 'NS', data: 'ns2.split.test' },
  { name: 'lame.test', type: 'NS', data: 'ns1.split.test' },
  { name: 'lame.test', type: 'NS', data: 'ns3.lame.test' },
  address('ns3.lame.test', '127.0.0.4'),
  address('lame.test', '192.0.2.96'),
  { name: 'v6ns.test', type: 'NS', data: 'ns1.split.test' },
  { name: 'v6ns.test', type: 'NS', data: 'ns6.v6ns.test' },
  address('ns6.v6ns.test', '::1'),
  address('v6ns.test', '192.0.2.97'),
];
const current: ZoneRecord[] = [
  mx('split.test', 10, 'mx.split.test'),
  address('mx.split.test', '192.0.2.91'),
  address('split.test', '192.0.2.90'),
  txt('split.test', 'v=spf1 mx -all'),
  txt('_dmarc.split.test', 'v=DMARC1; p=reject'),
  address('agree.test', '192.0.2.95'),
  mx('agree.test', 10, 'mx.split.test'),
  address('lame.test', '192.0.2.96'),
  address('v6ns.test', '192.0.2.97'),
];
const stale: ZoneRecord[] = [
  address('split.test', '198.51.100.90'),
  txt('split.test', 'v=spf1 -all'),
  address('agree.test', '192.0.2.95'),
  mx('agree.test', 10, 'mx.split.test'),
];

let resolver: RunningDnsServer;
let ns1: RunningDnsServer;
let ns2: RunningDnsServer;
let lame: Socket;

/** A server that answers from a cache, without the AA flag: a lame delegation. */
async function startLame(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', (message, remote) => {
    const query = packet.decode(message);
    const question = query.questions?.[0];
    if (!question) return;
    const answers: packet.Answer[] =
      question.type === 'A'
        ? [{ name: question.name, type: 'A', ttl: 60, class: 'IN', data: '192.0.2.96' }]
        : [];
    const response = packet.encode({
      type: 'response',
      id: query.id ?? 0,
      flags: 0,
      questions: [question],
      answers,
    });
    socket.send(response, remote.port, remote.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.4', () => resolve());
  });
  return socket;
}

/** Starts ns1 and ns2 on one port (the job asks every NS address on the same port). */
async function startPair(): Promise<[RunningDnsServer, RunningDnsServer]> {
  for (let attempt = 0; ; attempt += 1) {
    const first = await startDnsServer({ host: '127.0.0.2', records: current });
    try {
      const second = await startDnsServer({ host: '127.0.0.3', port: first.port, records: stale });
      return [first, second];
    } catch (error) {
      await first.close();
      if (attempt >= 5) throw error;
    }
  }
}

beforeAll(async () => {
  [ns1, ns2] = await startPair();
  resolver = await startDnsServer({ records: [...delegation, ...current] });
  lame = await startLame(ns1.port);
});

afterAll(async () => {
  await Promise.all([resolver.close(), ns1.close(), ns2.close()]);
  await new Promise<void>((resolve) => lame.close(() => resolve()));
});

async function run(domains: unknown[]): Promise<Finding[]> {
  const ctx = testContext(definition, {
    resolver: resolver.address,
    authoritative: true,
    authoritativePort: ns1.port,
    timeoutMs: 3000,
    retries: 1,
    domains,
  });
  return (await definition.run(ctx)).findings;
}

describe('authoritative: true', () => {
  it('finds the stale NS of a split delegation that the resolver hides', async () => {
    const findings = await run([
      { name: 'split.test', records: { A: ['192.0.2.90'] }, mail: { acceptsMail: true } },
    ]);
    const problems = findings
      .map((finding) => `${finding.code}|${finding.subject}|${finding.severity}`)
      .sort();
    expect(problems).toEqual([
      'dns.record-mismatch|A ns2.split.test (127.0.0.3)|critical',
      'dns.record-missing|MX authoritative|critical',
    ]);
    const missing = findings.find((finding) => finding.code === 'dns.record-missing');
    expect(missing?.message).toContain('ns1.split.test (127.0.0.2): 10 mx.split.test');
    expect(missing?.message).toContain('ns2.split.test (127.0.0.3): NODATA');
    // Both servers were asked directly, without recursion.
    expect(ns1.queries.some((query) => query.name === 'split.test' && query.type === 'MX')).toBe(true);
    expect(ns2.queries.some((query) => query.name === 'split.test' && query.type === 'MX')).toBe(true);
  });

  it('reports dns.ok when every NS serves the same answers', async () => {
    const findings = await run([
      { name: 'agree.test', records: { A: ['192.0.2.95'], MX: ['mx.split.test'] } },
    ]);
    expect(findings.map((finding) => finding.code)).toEqual(['dns.ok']);
    expect(findings[0]?.message).toContain('the same answers from all 2 authoritative server addresses');
  });

  it('reports an NS that answers without authority as a lame delegation (unknown)', async () => {
    const findings = await run([{ name: 'lame.test', records: { A: ['192.0.2.96'] } }]);
    expect(findings.map((finding) => `${finding.code}|${finding.subject}|${finding.severity}`)).toEqual([
      'dns.lookup-failed|NS ns3.lame.test (127.0.0.4)|unknown',
    ]);
    expect(findings[0]?.message).toContain('lame delegation');
  });

  it('does not ask IPv6 NS addresses unless authoritativeIpv6 is set, and says so', async () => {
    const findings = await run([{ name: 'v6ns.test', records: { A: ['192.0.2.97'] } }]);
    expect(findings.map((finding) => `${finding.code}|${finding.subject}`)).toEqual([
      'dns.lookup-failed|NS ns6.v6ns.test',
    ]);
    expect(findings[0]?.message).toContain('only IPv6 addresses and authoritativeIpv6 is off');
  });

  it('reports an NS that does not answer as unknown', async () => {
    const ctx = testContext(definition, {
      resolver: resolver.address,
      authoritative: true,
      // Nothing listens on this port on 127.0.0.2/3: every direct query fails.
      authoritativePort: resolver.port,
      timeoutMs: 1500,
      retries: 0,
      domains: [{ name: 'agree.test', records: { A: ['192.0.2.95'] } }],
    });
    const { findings } = await definition.run(ctx);
    expect(
      findings.filter((finding) => finding.subject?.startsWith('A ns')).map((finding) => finding.severity),
    ).toEqual(['unknown', 'unknown']);
    expect(findings.map((finding) => finding.code)).not.toContain('dns.ok');
  });
});
