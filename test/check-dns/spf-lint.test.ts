import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintSpf } from '#functions/check-dns/spf.ts';
import { type RunningDnsServer, startDnsServer } from '#sandbox/dns-server.ts';
import { DnsClient } from '#shared/dns/client.ts';
import { Lookup } from '#shared/dns/lookup.ts';
import { mailHostAddresses } from '#shared/dns/mail-hosts.ts';
import { testZones } from './zones.ts';

let server: RunningDnsServer;
let lookup: Lookup;

beforeAll(async () => {
  server = await startDnsServer({
    records: testZones(),
    misbehaviours: [{ name: 'c5.chain9.test', action: 'servfail' }],
  });
  lookup = new Lookup(new DnsClient({ servers: [server.address], timeoutMs: 3000, retries: 1 }));
});

afterAll(async () => {
  await server.close();
});

describe('lintSpf counting (RFC 7208 §4.6.4)', () => {
  it('does not count MX host addresses, exp= or an IPv6-only a: target as void', async () => {
    const lint = await lintSpf('counting.test', lookup);
    // a, mx, ptr, exists: four lookups; exp= is not one.
    expect(lint.lookups).toBe(4);
    expect(lint.voidLookups).toEqual([]);
    expect(lint.errors).toEqual([]);
    expect(lint.unresolvable).toEqual(['exists:%{i}.rbl.counting.test']);
    expect(lint.catchAll).toEqual({ qualifier: '-', domain: 'counting.test' });
  });

  it('reports an mx term with more than 10 hosts', async () => {
    const lint = await lintSpf('toomanymx.test', lookup);
    expect(lint.errors.map((error) => error.message)).toEqual([
      '"mx" names 11 MX hosts; more than 10 is a permerror',
    ]);
  });

  it('counts the whole include chain and shows it as a tree', async () => {
    const lint = await lintSpf('chain10.test', lookup);
    expect(lint.lookups).toBe(10);
    let depth = 0;
    for (let node = lint.tree; node?.children[0]; node = node.children[0]) depth += 1;
    expect(depth).toBe(10);
  });

  it('keeps a failed branch as a failure, so the count is a lower bound, not a verdict', async () => {
    const lint = await lintSpf('chain9.test', lookup);
    expect(lint.failures.map((failure) => failure.domain)).toEqual(['c5.chain9.test']);
    expect(lint.lookups).toBe(5);
    expect(lint.errors).toEqual([]);
  });
});

describe('mailHostAddresses', () => {
  it("returns the addresses of a domain's MX hosts for other jobs", async () => {
    expect((await mailHostAddresses('good.test', lookup.client)).sort()).toEqual([
      '192.0.2.25',
      '2001:db8::25',
    ]);
    expect(await mailHostAddresses('nullmx.test', lookup.client)).toEqual([]);
    expect(await mailHostAddresses('lost.test', lookup.client)).toEqual([]);
  });
});
