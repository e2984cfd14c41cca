import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDnsServer, startDnsServer } from '#sandbox/dns-server.ts';
import { DnsClient } from '#shared/dns/client.ts';
import { reversedAddress, reverseLookupName } from '#shared/dns/names.ts';

describe('DnsClient against a real DNS server on loopback', () => {
  let server: RunningDnsServer;
  beforeAll(async () => {
    server = await startDnsServer({
      records: [
        {
          name: 'example.test',
          type: 'MX',
          ttl: 600,
          data: { preference: 10, exchange: 'Mail.Example.test.' },
        },
        { name: 'example.test', type: 'A', data: '192.0.2.10' },
        {
          name: 'big.example.test',
          type: 'TXT',
          data: Array.from({ length: 40 }, (_, i) => `v=test${i} ${'x'.repeat(60)}`),
        },
        { name: '*.wild.test', type: 'A', data: '127.0.0.2' },
      ],
      misbehaviours: [
        { name: 'broken.test', action: 'servfail' },
        { name: 'refused.test', action: 'refused' },
        { name: 'silent.test', action: 'drop' },
      ],
    });
  });
  afterAll(() => server.close());

  const client = () => new DnsClient({ servers: [server.address], timeoutMs: 300, retries: 1 });

  it('returns records with their TTLs, lower-cased and without the root dot', async () => {
    const outcome = await client().query('example.test', 'MX');
    expect(outcome).toMatchObject({ status: 'answer', authoritative: true });
    expect(outcome.status === 'answer' && outcome.records).toEqual([
      { name: 'example.test', ttl: 600, type: 'MX', preference: 10, exchange: 'mail.example.test' },
    ]);
  });

  it('tells NXDOMAIN from NODATA', async () => {
    expect((await client().query('nothing.example.test', 'A')).status).toBe('nxdomain');
    expect((await client().query('example.test', 'AAAA')).status).toBe('nodata');
  });

  it('reports SERVFAIL, REFUSED and silence as failures, after one retry', async () => {
    const dns = client();
    expect(await dns.query('broken.test', 'A')).toMatchObject({ status: 'failed', reason: 'servfail' });
    expect(await dns.query('refused.test', 'A')).toMatchObject({ status: 'failed', reason: 'refused' });
    expect(await dns.query('silent.test', 'A')).toMatchObject({ status: 'failed', reason: 'timeout' });
    // servfail and timeout are retried once, refused is final.
    expect(dns.stats).toEqual({ queries: 3, attempts: 5, timeouts: 2 });
  });

  it('falls back to TCP when the UDP answer is truncated', async () => {
    const outcome = await client().query('big.example.test', 'TXT');
    expect(outcome.status === 'answer' && outcome.records).toHaveLength(1);
    expect(server.queries.filter((q) => q.name === 'big.example.test').map((q) => q.transport)).toEqual([
      'udp',
      'tcp',
    ]);
  });

  it('answers wildcard names', async () => {
    const outcome = await client().query('2.0.0.127.wild.test', 'A');
    expect(outcome.status === 'answer' && outcome.records[0]).toMatchObject({
      type: 'A',
      value: '127.0.0.2',
    });
  });
});

describe('reverse names', () => {
  it('reverses IPv4 octets and IPv6 nibbles (RFC 5782 §2.4)', () => {
    expect(reversedAddress('192.0.2.1')).toBe('1.2.0.192');
    expect(reverseLookupName('2001:db8::1')).toBe(
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
    );
    expect(reversedAddress('::ffff:7f00:2')).toBe(reversedAddress('::ffff:127.0.0.2'));
    expect(() => reversedAddress('example.com')).toThrow(/not an IP address/);
  });
});
