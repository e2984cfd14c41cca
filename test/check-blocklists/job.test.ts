import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-blocklists/job.ts';
import { type RunningDnsServer, startDnsServer, type ZoneRecord } from '#sandbox/dns-server.ts';
import { reversedAddress } from '#shared/dns/names.ts';
import type { Finding } from '#shared/findings.ts';
import { MemoryStateStore } from '#shared/state/memory.ts';
import { testContext } from '../support/context.ts';
import { find, listing, testPoint, testPointV6 } from './records.ts';

const LISTED = '192.0.2.10';
const POLICY_ONLY = '192.0.2.11';
const SERVFAILS = '192.0.2.12';
const ODD_CODE = '192.0.2.13';
const CLEAN = '192.0.2.14';
const LISTED_V6 = '2001:db8::25';

describe('check-blocklists against a real DNS server serving blocklist zones', () => {
  let server: RunningDnsServer;
  beforeAll(async () => {
    const records: ZoneRecord[] = [
      // Spamhaus ZEN: several codes per answer, IPv6, TXT reasons.
      ...testPoint('zen.spamhaus.org', ['127.0.0.2', '127.0.0.4', '127.0.0.10']),
      ...testPointV6('zen.spamhaus.org', ['127.0.0.2', '127.0.0.4', '127.0.0.10']),
      ...listing(
        'zen.spamhaus.org',
        LISTED,
        ['127.0.0.2', '127.0.0.11'],
        'https://check.spamhaus.org/sbl/SBL123',
      ),
      ...listing('zen.spamhaus.org', POLICY_ONLY, ['127.0.0.10'], 'https://check.spamhaus.org/pbl/PBL9'),
      ...listing('zen.spamhaus.org', LISTED_V6, ['127.0.0.3'], 'Snowshoe range 2001:db8::/48'),
      // Spamhaus DBL with its documented test domain.
      ...listing('dbl.spamhaus.org', 'dbltest.com', ['127.0.1.2']),
      ...listing('dbl.spamhaus.org', 'phish.example', ['127.0.1.4'], 'phishing kit hosted'),
      // SpamCop: one listing and one undocumented code.
      ...testPoint('bl.spamcop.net'),
      ...listing('bl.spamcop.net', LISTED, ['127.0.0.2'], 'Blocked - see https://www.spamcop.net/bl.shtml'),
      ...listing('bl.spamcop.net', ODD_CODE, ['127.0.0.9']),
      // PSBL: healthy, but SERVFAIL for one target.
      ...testPoint('psbl.surriel.com'),
      // UCEPROTECT: level 1 clean, level 2 lists the neighbourhood, level 3 never answers.
      ...testPoint('dnsbl-1.uceprotect.net'),
      ...testPoint('dnsbl-2.uceprotect.net'),
      ...listing(
        'dnsbl-2.uceprotect.net',
        LISTED,
        ['127.0.0.2'],
        'Net 192.0.2.0/24 is UCEPROTECT-Level2 listed',
      ),
      ...testPoint('dnsbl-3.uceprotect.net'),
      // A dead list: its parked domain answers "listed" for everything.
      { name: '*.dead.test', type: 'A', data: '127.0.0.2' },
      // A list without test points.
      ...listing('notest.test', LISTED, ['127.0.0.2']),
      // A list whose answers point outside 127/8 (NXDOMAIN rewriting, parking).
      { name: '*.parked.test', type: 'A', data: '198.51.100.7' },
      // A custom domain list with the RFC 5782 TEST / INVALID points.
      ...listing('dom.test', 'test', ['127.0.0.2']),
      ...listing('dom.test', 'spammy.example', ['127.0.0.2'], 'seen in spam bodies'),
      // fromDns: a mail domain with one MX host with two addresses.
      { name: 'example.test', type: 'MX', data: { preference: 10, exchange: 'mx.example.test' } },
      { name: 'mx.example.test', type: 'A', data: LISTED },
      { name: 'mx.example.test', type: 'AAAA', data: LISTED_V6 },
      { name: 'nomx.test', type: 'A', data: CLEAN },
      { name: 'nullmx.test', type: 'MX', data: { preference: 0, exchange: '.' } },
    ];
    server = await startDnsServer({
      records,
      misbehaviours: [
        { name: `${reversedAddress(SERVFAILS)}.psbl.surriel.com`, action: 'servfail' },
        { name: '*.dnsbl-3.uceprotect.net', action: 'drop' },
        { name: 'mxfail.test', action: 'servfail' },
      ],
    });
  });
  afterAll(() => server.close());

  function section(extra: Record<string, unknown> = {}) {
    return {
      resolver: server.address,
      timeoutMs: 1000,
      addresses: [
        LISTED,
        { address: POLICY_ONLY, sendsMail: false, label: 'web' },
        SERVFAILS,
        ODD_CODE,
        CLEAN,
        LISTED_V6,
      ],
      domains: ['phish.example', 'clean.example'],
      ...extra,
    };
  }

  describe('default zones', () => {
    let findings: Finding[];
    let stats: Record<string, number>;
    beforeAll(async () => {
      const context = testContext(definition, section());
      const outcome = await definition.run(context);
      findings = outcome.findings;
      stats = outcome.stats;
      expect(outcome.incomplete).toBeUndefined();
    });

    it('reports spam-source and policy codes of one answer as separate findings, with the TXT reason', () => {
      const [listed] = find(findings, 'blocklist.listed', LISTED, 'zen.spamhaus.org');
      expect(listed).toMatchObject({ job: 'check-blocklists', severity: 'critical' });
      expect(listed?.message).toMatch(
        /192\.0\.2\.10 is listed on Spamhaus ZEN \(zen\.spamhaus\.org\): SBL.*\(127\.0\.0\.2\)/,
      );
      expect(listed?.message).toContain('SBL123');
      expect(listed?.data).toMatchObject({ codes: ['127.0.0.2'], delistUrl: 'https://check.spamhaus.org/' });
      const [policy] = find(findings, 'blocklist.policy-listed', LISTED, 'zen.spamhaus.org');
      expect(policy).toMatchObject({
        severity: 'critical',
        data: { codes: ['127.0.0.11'], sendsMail: true },
      });
      expect(policy?.message).toMatch(
        /reject mail this address sends directly.*request removal at https:\/\/check\.spamhaus\.org\/\./,
      );
    });

    it('makes a PBL listing a warning for an address that does not send mail directly', () => {
      const [policy] = find(findings, 'blocklist.policy-listed', POLICY_ONLY);
      expect(policy?.severity).toBe('warning');
      expect(policy?.message).toMatch(/^192\.0\.2\.11 \(web\) is in a policy list/);
      expect(policy?.message).toMatch(
        /if it ever does, request removal at https:\/\/check\.spamhaus\.org\/\./,
      );
      expect(find(findings, 'blocklist.listed', POLICY_ONLY)).toEqual([]);
    });

    it('looks IPv6 addresses up by nibbles on lists that support IPv6 only', () => {
      const [listed] = find(findings, 'blocklist.listed', LISTED_V6, 'zen.spamhaus.org');
      expect(listed?.message).toMatch(/snowshoe.*Snowshoe range/);
      const v6Queries = server.queries.filter(
        (query) => query.name.endsWith('.bl.spamcop.net') && query.name.split('.').length > 20,
      );
      expect(v6Queries).toEqual([]);
    });

    it('says the owner cannot delist a neighbourhood listing', () => {
      const [neighbourhood] = find(findings, 'blocklist.neighbourhood-listed', LISTED);
      expect(neighbourhood?.severity).toBe('warning');
      expect(neighbourhood?.message).toMatch(/because of its neighbours.*You cannot delist it/);
    });

    it('reports SERVFAIL after the retry as lookup-failed, never as clean', () => {
      const [failed] = find(findings, 'blocklist.lookup-failed', SERVFAILS, 'psbl.surriel.com');
      expect(failed).toMatchObject({ severity: 'unknown', data: { reason: 'servfail' } });
      expect(find(findings, 'blocklist.clean', SERVFAILS)).toEqual([]);
    });

    it('reports an undocumented code as an error for that lookup, not as a listing', () => {
      const [odd] = find(findings, 'blocklist.zone-broken', ODD_CODE, 'bl.spamcop.net');
      expect(odd?.severity).toBe('unknown');
      expect(odd?.message).toMatch(/127\.0\.0\.9, which is not a documented listing code/);
      expect(find(findings, 'blocklist.listed', ODD_CODE)).toEqual([]);
    });

    it('reports a zone that times out once, as lookup-failed, and does not query it further', () => {
      const zone = find(findings, 'blocklist.lookup-failed', 'dnsbl-3.uceprotect.net');
      expect(zone).toHaveLength(1);
      expect(zone[0]?.message).toMatch(/could not be health-checked.*no answer/);
      const targetQueries = server.queries.filter(
        (query) =>
          query.name.endsWith('dnsbl-3.uceprotect.net') &&
          !query.name.startsWith('2.0.0.127') &&
          !query.name.startsWith('1.0.0.127'),
      );
      expect(targetQueries).toEqual([]);
    });

    it('gives a clean address one ok finding naming how many lists were checked and which were not usable', () => {
      const [clean] = find(findings, 'blocklist.clean', CLEAN);
      expect(clean?.severity).toBe('ok');
      expect(clean?.message).toMatch(
        /not listed on any of the 5 blocklists checked \(1 more could not be used this run: UCEPROTECT level 3\)/,
      );
    });

    it('checks domains on the domain list with its test domain', () => {
      expect(find(findings, 'blocklist.listed', 'phish.example')[0]?.message).toMatch(
        /phishing domain.*phishing kit/,
      );
      expect(find(findings, 'blocklist.clean', 'clean.example')[0]?.severity).toBe('ok');
      expect(server.queries.some((query) => query.name === 'dbltest.com.dbl.spamhaus.org')).toBe(true);
    });

    it('counts what it did', () => {
      expect(stats).toMatchObject({ targets: 8, addresses: 6, domains: 2, zones: 7, zonesUnusable: 1 });
    });
  });

  describe('broken custom zones', () => {
    let findings: Finding[];
    beforeAll(async () => {
      const context = testContext(
        definition,
        section({
          zones: ['spamcop'],
          customZones: [
            { id: 'dead', zone: 'dead.test' },
            { id: 'notest', zone: 'notest.test' },
            { id: 'parked', zone: 'parked.test' },
            { id: 'dom', zone: 'dom.test', kind: 'domain' },
          ],
        }),
      );
      findings = (await definition.run(context)).findings;
    });

    it('flags a list that lists everything as broken and does not use its answers', () => {
      const [dead] = find(findings, 'blocklist.zone-broken', 'dead.test', 'ipv4');
      expect(dead?.message).toMatch(/lists its test point 127\.0\.0\.1.*dead or parked/);
      expect(
        findings.filter((finding) => finding.subject === 'dead.test' && finding.code.endsWith('listed')),
      ).toEqual([]);
    });

    it('flags a list without test points as broken, even though it lists a target', () => {
      const [notest] = find(findings, 'blocklist.zone-broken', 'notest.test', 'ipv4');
      expect(notest?.message).toMatch(/does not list its test point 127\.0\.0\.2/);
      expect(
        findings.filter((finding) => finding.subject === 'notest.test' && finding.code.endsWith('listed')),
      ).toEqual([]);
    });

    it('flags answers outside 127/8 as a broken zone', () => {
      const [parked] = find(findings, 'blocklist.zone-broken', 'parked.test', 'ipv4');
      expect(parked?.message).toMatch(/198\.51\.100\.7, outside 127\.0\.0\.0\/8/);
    });

    it('checks a custom domain list with TEST and INVALID', () => {
      expect(server.queries.some((query) => query.name === 'invalid.dom.test')).toBe(true);
      expect(find(findings, 'blocklist.clean', 'phish.example')[0]?.message).toMatch(
        /the one blocklist checked/,
      );
    });

    it('says when an address is on no list that supports its family', () => {
      expect(find(findings, 'blocklist.not-checked', LISTED_V6)[0]?.message).toMatch(
        /none of the configured blocklists lists IPv6/,
      );
    });
  });

  it('does not offer delisting for a custom list whose owner cannot delist', async () => {
    const context = testContext(definition, {
      resolver: server.address,
      addresses: [LISTED],
      zones: ['spamcop'],
      customZones: [{ id: 'auto', zone: 'dnsbl-2.uceprotect.net', ownerCanDelist: false }],
    });
    const { findings } = await definition.run(context);
    expect(find(findings, 'blocklist.listed', LISTED, 'dnsbl-2.uceprotect.net')[0]?.message).toMatch(
      /removes entries by itself when the abuse stops, not on request/,
    );
  });

  it('lists a custom domain list hit with its reason', async () => {
    const context = testContext(definition, {
      resolver: server.address,
      domains: ['spammy.example'],
      zones: ['spamcop'],
      customZones: [{ id: 'dom', name: 'Domain list', zone: 'dom.test', kind: 'domain' }],
    });
    const { findings } = await definition.run(context);
    expect(find(findings, 'blocklist.listed', 'spammy.example', 'dom.test')[0]?.message).toMatch(
      /listed on Domain list \(dom\.test\): listed \(127\.0\.0\.2\).*seen in spam bodies/,
    );
  });

  it('takes the MX hosts of a fromDns domain and checks their addresses and the domain', async () => {
    const context = testContext(definition, {
      resolver: server.address,
      zones: ['spamhaus-zen', 'spamhaus-dbl'],
      fromDns: ['example.test', 'nomx.test', 'nullmx.test', 'mxfail.test'],
    });
    const { findings } = await definition.run(context);
    expect(find(findings, 'blocklist.listed', LISTED)[0]?.message).toMatch(
      /\(MX mx\.example\.test of example\.test\)/,
    );
    expect(find(findings, 'blocklist.listed', LISTED_V6)).toHaveLength(1);
    expect(find(findings, 'blocklist.clean', 'example.test')).toHaveLength(1);
    expect(find(findings, 'mail.mx-missing', 'nomx.test')[0]?.severity).toBe('info');
    expect(find(findings, 'mail.mx-missing', 'nullmx.test')[0]?.message).toMatch(
      /null MX \(it accepts no mail\)/,
    );
    const [failed] = find(findings, 'dns.lookup-failed', 'mxfail.test');
    expect(failed).toMatchObject({ severity: 'unknown', data: { reason: 'servfail' } });
  });

  it('also checks the mail senders the dns section declares for a fromDns domain', async () => {
    const dnsSection = {
      domains: [
        { name: 'nomx.test', mail: { senders: [{ ip: LISTED, hostname: 'out.nomx.test' }] } },
        { name: 'unrelated.test', mail: { senders: [{ ip: CLEAN, hostname: 'mail.unrelated.test' }] } },
      ],
    };
    const context = testContext(
      definition,
      { resolver: server.address, zones: ['spamhaus-zen'], fromDns: ['nomx.test'] },
      { sections: { dns: dnsSection } },
    );
    const { findings } = await definition.run(context);
    const [listed] = find(findings, 'blocklist.listed', LISTED);
    expect(listed?.message).toMatch(/out\.nomx\.test/);
    expect(listed?.data?.['sources']).toEqual(['mail sender of nomx.test (dns section)']);
    // Only the fromDns domain's senders are taken, not every sender of the dns section.
    expect(findings.some((finding) => finding.target === CLEAN)).toBe(false);
  });
});

describe('Spamhaus refusing the resolver', () => {
  let server: RunningDnsServer;
  beforeAll(async () => {
    server = await startDnsServer({
      records: [
        { name: '*.zen.spamhaus.org', type: 'A', data: '127.255.255.254' },
        ...testPoint('bl.spamcop.net'),
      ],
    });
  });
  afterAll(() => server.close());

  it('reports query-refused with what to do, and in Lambda says once that a DQS key is needed', async () => {
    const context = testContext(
      definition,
      { resolver: server.address, addresses: [LISTED, CLEAN], zones: ['spamhaus-zen', 'spamcop'] },
      { inLambda: true },
    );
    const { findings } = await definition.run(context);
    const refused = find(findings, 'blocklist.query-refused', 'zen.spamhaus.org');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.message).toMatch(
      /127\.255\.255\.254.*Spamhaus refuses queries from public and cloud resolvers, including AWS's: configure a DQS key/,
    );
    expect(findings.filter((finding) => finding.code === 'blocklist.dqs-key-missing')).toHaveLength(1);
    expect(findings.filter((finding) => finding.code.endsWith('listed'))).toEqual([]);
    expect(find(findings, 'blocklist.clean', LISTED)[0]?.message).toMatch(
      /the one blocklist checked \(1 more could not be used this run: Spamhaus ZEN\)/,
    );
  });

  it('does not add the DQS info outside Lambda', async () => {
    const context = testContext(definition, {
      resolver: server.address,
      addresses: [CLEAN],
      zones: ['spamhaus-zen'],
    });
    const { findings } = await definition.run(context);
    expect(findings.filter((finding) => finding.code === 'blocklist.dqs-key-missing')).toEqual([]);
  });
});

describe('Spamhaus DQS', () => {
  const KEY = 'q7dqskeyq7dqskeyq7dqskey42';
  let server: RunningDnsServer;
  beforeAll(async () => {
    const zen = `${KEY}.zen.dq.spamhaus.net`;
    const dbl = `${KEY}.dbl.dq.spamhaus.net`;
    server = await startDnsServer({
      records: [
        ...testPoint(zen, ['127.0.0.2']),
        ...listing(zen, LISTED, ['127.0.0.4'], `Listed in XBL, see https://check.spamhaus.org/ key ${KEY}`),
        ...listing(dbl, 'dbltest.com', ['127.0.1.2']),
      ],
      misbehaviours: [{ name: `${reversedAddress(SERVFAILS)}.${zen}`, action: 'servfail' }],
    });
  });
  afterAll(() => server.close());

  it('queries <name>.<key>.zen.dq.spamhaus.net and never shows the key anywhere', async () => {
    const context = testContext(
      definition,
      {
        resolver: server.address,

        dqsKey: 'ssm:/watchkeeper/dqs-key',
        addresses: [LISTED, SERVFAILS, CLEAN],
        domains: ['example.com'],
        zones: ['spamhaus-zen', 'spamhaus-dbl'],
      },
      { secrets: { 'ssm:/watchkeeper/dqs-key': `${KEY}\n` }, inLambda: true },
    );
    const outcome = await definition.run(context);
    expect(server.queries.some((query) => query.name === `2.0.0.127.${KEY}.zen.dq.spamhaus.net`)).toBe(true);
    expect(server.queries.some((query) => query.name === `example.com.${KEY}.dbl.dq.spamhaus.net`)).toBe(
      true,
    );

    const listed = find(outcome.findings, 'blocklist.listed', LISTED, '[redacted].zen.dq.spamhaus.net');
    expect(listed[0]?.message).toMatch(/Spamhaus ZEN \(\[redacted\]\.zen\.dq\.spamhaus\.net\): XBL/);
    expect(find(outcome.findings, 'blocklist.lookup-failed', SERVFAILS)).toHaveLength(1);
    expect(outcome.findings.filter((finding) => finding.code === 'blocklist.dqs-key-missing')).toEqual([]);

    const everything = JSON.stringify({ outcome, logs: context.logs }).toLowerCase();
    expect(everything).not.toContain(KEY.toLowerCase());
    expect(everything).toContain('[redacted]');
  });

  it('keeps the key out of the error when the run crashes', async () => {
    // A store error that echoes the item it could not write, as some backends do.
    class EchoingStore extends MemoryStateStore {
      override async put(partition: string, key: string, value: Record<string, unknown>): Promise<void> {
        throw new Error(`could not write ${partition}/${key}: ${JSON.stringify(value)} near ${KEY}`);
      }
    }
    const context = testContext(
      definition,
      {
        resolver: server.address,
        dqsKey: 'ssm:/watchkeeper/dqs-key',
        addresses: [LISTED],
        zones: ['spamhaus-zen'],
      },
      { secrets: { 'ssm:/watchkeeper/dqs-key': KEY }, state: new EchoingStore() },
    );
    const error = await definition.run(context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^could not write listings#check-blocklists\/spamhaus-zen/);
    expect(
      JSON.stringify({
        message: (error as Error).message,
        stack: (error as Error).stack,
        cause: String((error as Error).cause),
        causeStack: ((error as Error).cause as Error | undefined)?.stack,
      }),
    ).not.toContain(KEY);
  });

  it('refuses a malformed key without echoing it', async () => {
    const context = testContext(
      definition,
      { resolver: server.address, dqsKey: 'ssm:/watchkeeper/dqs-key', addresses: [CLEAN] },
      { secrets: { 'ssm:/watchkeeper/dqs-key': 'bad key.with.dots' } },
    );
    const error = await definition.run(context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /ssm:\/watchkeeper\/dqs-key is not a single alphanumeric DNS label/,
    );
    expect((error as Error).message).not.toContain('bad key');
  });
});
