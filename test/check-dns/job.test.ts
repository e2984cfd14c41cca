import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-dns/job.ts';
import { type RunningDnsServer, startDnsServer } from '#sandbox/dns-server.ts';
import type { Finding } from '#shared/findings.ts';
import { testContext } from '../support/context.ts';
import { testZones } from './zones.ts';

let server: RunningDnsServer;

beforeAll(async () => {
  server = await startDnsServer({
    records: testZones(),
    misbehaviours: [
      { name: 'servfail.test', action: 'servfail' },
      { name: '*.servfail.test', action: 'servfail' },
      { name: 'silent.test', action: 'drop' },
      { name: '*.silent.test', action: 'drop' },
      { name: '_dmarc.refused.test', action: 'refused' },
    ],
  });
});

afterAll(async () => {
  await server.close();
});

async function run(domains: unknown[], extra: Record<string, unknown> = {}): Promise<Finding[]> {
  const ctx = testContext(definition, {
    resolver: server.address,
    // Generous: the machine may be loaded, and a late answer must not turn into "unknown".
    timeoutMs: 3000,
    retries: 1,
    domains,
    ...extra,
  });
  const outcome = await definition.run(ctx);
  expect(outcome.incomplete).toBeUndefined();
  return outcome.findings;
}

function codes(findings: Finding[]): string[] {
  return findings.map((finding) => `${finding.code}:${finding.severity}`).sort();
}

function only(findings: Finding[], code: string): Finding {
  const matching = findings.filter((finding) => finding.code === code);
  expect(matching, `exactly one ${code} in ${JSON.stringify(codes(findings))}`).toHaveLength(1);
  return matching[0] as Finding;
}

const goodMail = {
  senders: [
    { ip: '192.0.2.25', hostname: 'mx1.good.test' },
    { ip: '2001:db8::25', hostname: 'MX1.Good.Test.' },
  ],
  dkimSelectors: ['s1'],
};

describe('check-dns on a healthy domain', () => {
  it('reports one dns.ok with what it saw, pinned records compared case- and dot-insensitively', async () => {
    const findings = await run([
      {
        name: 'good.test',
        records: {
          MX: ['10 MX1.GOOD.TEST.'],
          NS: { values: ['ns1.good.test'], match: 'contains' },
          A: ['192.0.2.80'],
          AAAA: ['2001:0db8:0:0::80'],
          TXT: { values: ['google-site-verification=AbC123'], match: 'contains' },
          CAA: ['0 issue "LetsEncrypt.org"'],
        },
        mail: goodMail,
      },
    ]);
    expect(codes(findings)).toEqual(['dns.ok:ok']);
    const ok = only(findings, 'dns.ok');
    expect(ok.target).toBe('good.test');
    expect(ok.message).toContain('SPF 1/10 lookups, -all');
    expect(ok.message).toContain('DMARC p=reject');
    expect(ok.message).toContain('DKIM s1 rsa-2048');
    expect(ok.data).toMatchObject({ records: { MX: { values: ['10 mx1.good.test'], ttl: 300 } } });
  });

  it('checks a CNAME expectation', async () => {
    const findings = await run([{ name: 'www.good.test', records: { CNAME: ['good.test.'] } }]);
    expect(codes(findings)).toEqual(['dns.ok:ok']);
  });
});

describe('expected records', () => {
  it('reports a changed MX set as a mismatch with expected and actual', async () => {
    const findings = await run([{ name: 'good.test', records: { MX: ['10 mx.old-provider.test'] } }]);
    const mismatch = only(findings, 'dns.record-mismatch');
    expect(mismatch.severity).toBe('critical');
    expect(mismatch.subject).toBe('MX');
    expect(mismatch.message).toContain('published 10 mx1.good.test');
    expect(mismatch.message).toContain('expected 10 mx.old-provider.test');
    expect(mismatch.data).toMatchObject({
      expected: ['10 mx.old-provider.test'],
      actual: ['10 mx1.good.test'],
      ttls: [300],
    });
  });

  it('reports extra records only for exact sets, not for contains', async () => {
    const exact = await run([{ name: 'good.test', records: { NS: ['ns1.good.test'] } }]);
    expect(only(exact, 'dns.record-mismatch').message).toContain('unexpected ns2.good.test');
    const contains = await run([
      {
        name: 'good.test',
        records: { NS: { values: ['ns2.good.test'], match: 'contains', severity: 'warning' } },
      },
    ]);
    expect(codes(contains)).toEqual(['dns.ok:ok']);
  });

  it('reports a lost MX set as record-missing (NODATA is an answer)', async () => {
    const findings = await run([{ name: 'lost.test', records: { MX: ['10 mx1.lost.test'] } }]);
    const missing = only(findings, 'dns.record-missing');
    expect(missing.severity).toBe('critical');
    expect(missing.message).toContain('NODATA');
    expect(missing.data).toMatchObject({ answer: 'nodata', actual: [] });
  });

  it('reports NXDOMAIN as record-missing', async () => {
    const findings = await run([{ name: 'nowhere.good.test', records: { A: ['192.0.2.1'] } }]);
    expect(only(findings, 'dns.record-missing').data).toMatchObject({ answer: 'nxdomain' });
  });

  it('reports SERVFAIL as dns.lookup-failed (unknown), never as missing', async () => {
    const findings = await run([{ name: 'servfail.test', records: { MX: ['10 mx.servfail.test'] } }]);
    expect(codes(findings)).toEqual(['dns.lookup-failed:unknown']);
    expect(only(findings, 'dns.lookup-failed').data).toMatchObject({ reason: 'servfail' });
  });

  it('reports REFUSED as dns.lookup-failed (unknown), never as a missing DMARC record', async () => {
    const findings = await run([{ name: 'refused.test', mail: { acceptsMail: false } }]);
    expect(findings.map((finding) => finding.code)).not.toContain('mail.dmarc-missing');
    expect(findings.find((finding) => finding.subject === 'DMARC')).toMatchObject({
      code: 'dns.lookup-failed',
      severity: 'unknown',
      data: { reason: 'refused' },
    });
  });

  it('reports a server that never answers as a timeout (unknown)', async () => {
    const findings = await run([{ name: 'silent.test', records: { A: ['192.0.2.1'] }, mail: {} }], {
      timeoutMs: 300,
      retries: 0,
    });
    expect(findings.every((finding) => finding.severity === 'unknown')).toBe(true);
    expect(findings.map((finding) => finding.code)).not.toContain('mail.mx-missing');
    expect(findings.map((finding) => finding.code)).not.toContain('dns.record-missing');
    expect(findings.find((finding) => finding.subject === 'A')?.data).toMatchObject({ reason: 'timeout' });
  });
});

describe('MX of mail domains', () => {
  it('reports a domain without MX as mail.mx-missing (critical)', async () => {
    const findings = await run([{ name: 'lost.test', mail: {} }]);
    const missing = only(findings, 'mail.mx-missing');
    expect(missing.severity).toBe('critical');
    expect(missing.message).toContain('fall back to its A record');
  });

  it('reports a null MX as info', async () => {
    const findings = await run([{ name: 'nullmx.test', mail: {} }]);
    const nullMx = only(findings, 'mail.mx-missing');
    expect(nullMx.severity).toBe('info');
    expect(nullMx.message).toContain('accepts no mail');
    expect(codes(findings)).toEqual(['dns.ok:ok', 'mail.mx-missing:info']);
  });

  it('accepts a null MX silently for a send-only domain', async () => {
    const findings = await run([{ name: 'nullmx.test', mail: { acceptsMail: false } }]);
    expect(codes(findings)).toEqual(['dns.ok:ok']);
  });

  it('reports an MX host without an address', async () => {
    const findings = await run([{ name: 'noaddr.test', mail: {} }]);
    const host = only(findings, 'mail.mx-host-no-address');
    expect(host.subject).toBe('ghost.noaddr.test');
    // Another MX host works, so mail still flows: a warning.
    expect(host.severity).toBe('warning');
  });

  it('reports SERVFAIL on the MX lookup as unknown, not as mx-missing', async () => {
    const findings = await run([{ name: 'servfail.test', mail: {} }]);
    expect(findings.map((finding) => finding.code)).not.toContain('mail.mx-missing');
    expect(findings.find((finding) => finding.subject === 'MX')).toMatchObject({
      code: 'dns.lookup-failed',
      severity: 'unknown',
    });
  });
});

describe('senders: PTR and forward-confirmed reverse DNS', () => {
  it('reports a missing PTR', async () => {
    const findings = await run([
      { name: 'broken.test', mail: { senders: [{ ip: '192.0.2.31', hostname: 'mx.broken.test' }] } },
    ]);
    const missing = only(findings, 'mail.ptr-missing');
    expect(missing.subject).toBe('192.0.2.31');
    expect(missing.severity).toBe('critical');
  });

  it('reports a PTR naming another host, which does not resolve back', async () => {
    const findings = await run([
      { name: 'broken.test', mail: { senders: [{ ip: '192.0.2.30', hostname: 'mx.broken.test' }] } },
    ]);
    const mismatch = only(findings, 'mail.ptr-mismatch');
    expect(mismatch.message).toContain('host-30.cloud.test');
    expect(mismatch.data).toMatchObject({ expected: 'mx.broken.test', actual: ['host-30.cloud.test'] });
    const fcrdns = only(findings, 'mail.fcrdns-failed');
    expect(fcrdns.severity).toBe('critical');
    expect(fcrdns.message).toContain('host-30.cloud.test → 192.0.2.99');
  });

  it('checks IPv6 senders through ip6.arpa and AAAA', async () => {
    const findings = await run([
      { name: 'broken.test', mail: { senders: [{ ip: '2001:db8::31', hostname: 'mx6.broken.test' }] } },
    ]);
    expect(findings.map((finding) => finding.code)).not.toContain('mail.ptr-missing');
    expect(findings.map((finding) => finding.code)).not.toContain('mail.ptr-mismatch');
    const fcrdns = only(findings, 'mail.fcrdns-failed');
    expect(fcrdns.subject).toBe('2001:db8::31');
    expect(fcrdns.message).toContain('mx6.broken.test → nxdomain');
  });
});

describe('SPF', () => {
  it('counts an include chain of 9 and of 10 lookups as within the limit', async () => {
    for (const name of ['chain9.test', 'chain10.test']) {
      const findings = await run([{ name, mail: { acceptsMail: false, dmarc: 'recommended', senders: [] } }]);
      expect(findings.map((finding) => finding.code)).not.toContain('mail.spf-too-many-lookups');
    }
  });

  it('reports a chain of 11 lookups, and mailauth agrees the sender no longer passes', async () => {
    const findings = await run([
      {
        name: 'chain11.test',
        mail: { acceptsMail: false, senders: [{ ip: '192.0.2.50', hostname: 'mx1.good.test' }] },
      },
    ]);
    const tooMany = only(findings, 'mail.spf-too-many-lookups');
    expect(tooMany.severity).toBe('critical');
    expect(tooMany.message).toContain('needs 11 DNS lookups');
    expect(tooMany.data).toMatchObject({ lookups: 11, limit: 10 });
    const sender = only(findings, 'mail.spf-sender-not-authorized');
    expect(sender.data).toMatchObject({ result: 'permerror' });
  });

  it('lets a sender at the end of a 10-lookup chain pass', async () => {
    const findings = await run([
      {
        name: 'chain10.test',
        mail: { acceptsMail: false, senders: [{ ip: '192.0.2.50', hostname: 'mx1.good.test' }] },
      },
    ]);
    expect(findings.map((finding) => finding.code)).not.toContain('mail.spf-sender-not-authorized');
  });

  it('reports more than two void lookups', async () => {
    const findings = await run([{ name: 'void.test', mail: { acceptsMail: false } }]);
    const voids = only(findings, 'mail.spf-void-lookups');
    expect(voids.message).toContain('3 void lookups');
    expect(voids.data).toMatchObject({
      voidLookups: ['a:gone1.void.test', 'mx:gone2.void.test', 'exists:gone3.void.test'],
    });
  });

  it('reports an include loop as invalid', async () => {
    const findings = await run([{ name: 'loop.test', mail: { acceptsMail: false } }]);
    const invalid = only(findings, 'mail.spf-invalid');
    expect(invalid.message).toContain('loop.test → loop2.test → loop.test');
  });

  it('reports two SPF records', async () => {
    const findings = await run([{ name: 'multi.test', mail: { acceptsMail: false } }]);
    expect(only(findings, 'mail.spf-multiple').severity).toBe('critical');
  });

  it('follows a redirect for lookups, the catch-all and the sender evaluation', async () => {
    const findings = await run([
      {
        name: 'redirect.test',
        mail: {
          acceptsMail: false,
          dmarc: 'recommended',
          senders: [{ ip: '192.0.2.20', hostname: 'mx1.good.test' }],
        },
      },
    ]);
    expect(findings.map((finding) => finding.code)).not.toContain('mail.spf-permissive');
    expect(findings.map((finding) => finding.code)).not.toContain('mail.spf-sender-not-authorized');
    expect(findings.map((finding) => finding.code)).toContain('mail.dmarc-missing');
  });

  it('reports +all as critical, also when reached through an include, and ?all as a warning', async () => {
    const plus = await run([{ name: 'permissive.test', mail: { acceptsMail: false } }]);
    expect(only(plus, 'mail.spf-permissive').severity).toBe('critical');
    const via = await run([{ name: 'viaplus.test', mail: { acceptsMail: false } }]);
    const viaPlus = only(via, 'mail.spf-permissive');
    expect(viaPlus.severity).toBe('critical');
    expect(viaPlus.message).toContain('include:plus.viaplus.test');
    const neutral = await run([{ name: 'neutral.test', mail: { acceptsMail: false } }]);
    expect(only(neutral, 'mail.spf-permissive').severity).toBe('warning');
  });

  it('reports syntax errors by term', async () => {
    const findings = await run([{ name: 'badsyntax.test', mail: { acceptsMail: false } }]);
    const invalid = only(findings, 'mail.spf-invalid');
    expect(invalid.message).toContain('"ip4:192.0.2.300"');
    expect(invalid.message).toContain('"inclde:x.test" is not a known mechanism');
  });

  it('reports a missing SPF record, and a sender the record does not list', async () => {
    const noSpf = await run([
      { name: 'nullmx.test', mail: { senders: [{ ip: '192.0.2.25', hostname: 'mx1.good.test' }] } },
    ]);
    const notAuthorized = only(noSpf, 'mail.spf-sender-not-authorized');
    expect(notAuthorized.data).toMatchObject({ result: 'fail' });
    const absent = await run([{ name: 'badmarc.test', mail: { acceptsMail: false } }]);
    expect(only(absent, 'mail.spf-missing').severity).toBe('warning');
  });
});

describe('DMARC', () => {
  it("inherits the organisational domain's record for a subdomain", async () => {
    const findings = await run([{ name: 'sub.good.test', mail: {} }]);
    expect(codes(findings)).toEqual(['dns.ok:ok']);
    expect(only(findings, 'dns.ok').data).toMatchObject({
      mail: { dmarc: { recordDomain: 'good.test', policy: 'reject' } },
    });
  });

  it('applies sp=none of the organisational domain to a subdomain', async () => {
    const child = await run([{ name: 'child.nonepol.test', mail: {} }]);
    expect(only(child, 'mail.dmarc-policy-none').message).toContain('inherited from nonepol.test');
    const parent = await run([{ name: 'nonepol.test', mail: {} }]);
    expect(codes(parent)).toEqual(['dns.ok:ok']);
  });

  it('reports a missing record by the configured requirement', async () => {
    const required = await run([{ name: 'redirect.test', mail: { acceptsMail: false } }]);
    expect(only(required, 'mail.dmarc-missing').severity).toBe('critical');
    const recommended = await run([
      { name: 'redirect.test', mail: { acceptsMail: false, dmarc: 'recommended' } },
    ]);
    expect(only(recommended, 'mail.dmarc-missing').severity).toBe('warning');
  });

  it('reports an invalid record with its problems', async () => {
    const findings = await run([{ name: 'badmarc.test', mail: { acceptsMail: false } }]);
    const invalid = only(findings, 'mail.dmarc-invalid');
    expect(invalid.message).toContain('p=block is not none, quarantine or reject');
    expect(invalid.message).toContain('pct=150');
  });
});

describe('DKIM', () => {
  it('reports missing, revoked and weak keys by selector', async () => {
    const findings = await run([
      { name: 'good.test', mail: { dkimSelectors: ['s1', 'weak', 'tiny', 'old', 'nosuch'] } },
    ]);
    const bySelector = (selector: string) =>
      findings
        .filter((finding) => finding.subject === `DKIM ${selector}`)
        .map((finding) => `${finding.code}:${finding.severity}`);
    expect(bySelector('s1')).toEqual([]);
    expect(bySelector('weak')).toEqual(['mail.dkim-weak-key:warning']);
    expect(bySelector('tiny')).toEqual(['mail.dkim-weak-key:critical']);
    expect(bySelector('old')).toEqual(['mail.dkim-missing:critical']);
    expect(bySelector('nosuch')).toEqual(['mail.dkim-missing:critical']);
    expect(findings.find((finding) => finding.subject === 'DKIM old')?.message).toContain('revoked');
  });
});

describe('run shape', () => {
  it('counts queries and asks each question once per run', async () => {
    const ctx = testContext(definition, {
      resolver: server.address,
      domains: [
        { name: 'good.test', mail: goodMail },
        { name: 'sub.good.test', mail: {} },
      ],
    });
    const before = server.queries.length;
    const outcome = await definition.run(ctx);
    const asked = server.queries.slice(before).map((query) => `${query.name}|${query.type}`);
    expect(new Set(asked).size).toBe(asked.length);
    expect(outcome.stats).toMatchObject({ domains: 2, queries: asked.length, timeouts: 0 });
  });

  it('stops at the deadline and says which domains were not checked', async () => {
    const ctx = testContext(
      definition,
      { resolver: server.address, domains: [{ name: 'good.test', mail: {} }] },
      { budgetMs: 1 },
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    const outcome = await definition.run(ctx);
    expect(outcome.incomplete?.data).toEqual({ notChecked: ['good.test'] });
  });
});
