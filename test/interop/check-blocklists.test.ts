/**
 * check-blocklists against Debian's rbldnsd, the server real DNSBL operators run: zone files in a
 * temporary directory, one rbldnsd in the foreground on a loopback high port, stopped afterwards.
 * Needs the `rbldnsd` package (CI installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-blocklists/job.ts';
import type { Finding } from '#shared/findings.ts';
import { type Daemon, startRbldnsd } from '../check-blocklists/daemons.ts';
import { find } from '../check-blocklists/records.ts';
import { testContext } from '../support/context.ts';

const KEY = 'interopdqskey0000000000042';

const FILES: Record<string, string> = {
  sbl: ':127.0.0.2:SBL listed, see https://check.spamhaus.org/sbl/query/$\n127.0.0.2\n192.0.2.10\n',
  pbl: ':127.0.0.10:PBL listed (ISP)\n127.0.0.2\n192.0.2.10 :127.0.0.11:PBL listed (Spamhaus)\n192.0.2.11\n',
  zen6: ':127.0.0.3:CSS listed\n::ffff:7f00:2 :127.0.0.2:test point\n2001:db8::25\n',
  spamcop:
    ':127.0.0.2:Blocked - see https://www.spamcop.net/bl.shtml?$\n127.0.0.2\n192.0.2.10\n192.0.2.13 :127.0.0.9:\n',
  everything: ':127.0.0.2:listed\n0.0.0.0/0\n',
  notest: '192.0.2.10\n',
  parked: ':198.51.100.7:parked\n0.0.0.0/0\n',
  dbl: ':127.0.1.2:spam domain\ndbltest.com\nphish.example :127.0.1.4:phishing kit hosted\n',
  uribl: ':127.0.0.1:refused\ntest.uribl.com\ninvalid\nphish.example\n',
};

const ZONES = [
  'zen.spamhaus.org:ip4set:sbl',
  'zen.spamhaus.org:ip4set:pbl',
  'zen.spamhaus.org:ip6trie:zen6',
  `${KEY}.zen.dq.spamhaus.net:ip4set:sbl`,
  'bl.spamcop.net:ip4set:spamcop',
  'dead.test:ip4trie:everything',
  'notest.test:ip4set:notest',
  'parked.test:ip4trie:parked',
  'dbl.spamhaus.org:dnset:dbl',
  'multi.uribl.com:dnset:uribl',
];

describe('check-blocklists against rbldnsd', () => {
  let rbldnsd: Daemon;
  let resolver: string;

  beforeAll(async () => {
    rbldnsd = await startRbldnsd(FILES, ZONES);
    resolver = rbldnsd.address;
  });
  afterAll(() => rbldnsd?.stop());

  describe('public zones and custom zones', () => {
    let findings: Finding[];
    beforeAll(async () => {
      const context = testContext(definition, {
        resolver,
        timeoutMs: 2000,
        addresses: [
          '192.0.2.10',
          { address: '192.0.2.11', sendsMail: false },
          '192.0.2.13',
          '192.0.2.14',
          '2001:db8::25',
        ],
        domains: ['phish.example', 'clean.example'],
        zones: ['spamhaus-zen', 'spamhaus-dbl', 'spamcop', 'psbl', 'uribl'],
        customZones: [
          { id: 'dead', zone: 'dead.test' },
          { id: 'notest', zone: 'notest.test' },
          { id: 'parked', zone: 'parked.test' },
        ],
      });
      findings = (await definition.run(context)).findings;
    });

    it('merges the answers of several rbldnsd datasets into one multi-code verdict with TXT reasons', () => {
      const [listed] = find(findings, 'blocklist.listed', '192.0.2.10', 'zen.spamhaus.org');
      expect(listed?.data).toMatchObject({ codes: ['127.0.0.2'] });
      expect(listed?.message).toContain('https://check.spamhaus.org/sbl/query/192.0.2.10');
      const [policy] = find(findings, 'blocklist.policy-listed', '192.0.2.10', 'zen.spamhaus.org');
      expect(policy).toMatchObject({ severity: 'critical', data: { codes: ['127.0.0.11'] } });
      expect(find(findings, 'blocklist.policy-listed', '192.0.2.11')[0]?.severity).toBe('warning');
    });

    it('finds an IPv6 listing by nibbles in an ip6trie dataset', () => {
      const [listed] = find(findings, 'blocklist.listed', '2001:db8::25', 'zen.spamhaus.org');
      expect(listed?.message).toMatch(/snowshoe.*CSS listed/);
    });

    it("treats rbldnsd's REFUSED for a zone it does not serve as lookup-failed", () => {
      const [psbl] = find(findings, 'blocklist.lookup-failed', 'psbl.surriel.com', 'ipv4');
      expect(psbl?.message).toMatch(/refused/);
      expect(find(findings, 'blocklist.clean', '192.0.2.14')[0]?.message).not.toContain('psbl');
    });

    it('flags the list that lists everything, the list without test points and the parked list', () => {
      expect(find(findings, 'blocklist.zone-broken', 'dead.test')[0]?.message).toMatch(
        /127\.0\.0\.1.*everything/,
      );
      expect(find(findings, 'blocklist.zone-broken', 'notest.test')[0]?.message).toMatch(
        /does not list its test point/,
      );
      expect(find(findings, 'blocklist.zone-broken', 'parked.test')[0]?.message).toMatch(
        /outside 127\.0\.0\.0\/8/,
      );
      const fromBroken = findings.filter(
        (finding) =>
          ['dead.test', 'notest.test', 'parked.test'].includes(finding.subject ?? '') &&
          finding.code.endsWith('listed'),
      );
      expect(fromBroken).toEqual([]);
    });

    it('reports an undocumented code as an error, not a listing', () => {
      expect(find(findings, 'blocklist.zone-broken', '192.0.2.13', 'bl.spamcop.net')).toHaveLength(1);
      expect(find(findings, 'blocklist.listed', '192.0.2.13')).toEqual([]);
    });

    it("checks domains on DBL and reports URIBL's 127.0.0.1 as a refusal", () => {
      expect(find(findings, 'blocklist.listed', 'phish.example', 'dbl.spamhaus.org')[0]?.message).toMatch(
        /phishing kit hosted/,
      );
      expect(find(findings, 'blocklist.query-refused', 'multi.uribl.com')[0]?.message).toMatch(
        /URIBL refuses large shared resolvers/,
      );
      expect(find(findings, 'blocklist.listed', 'phish.example', 'multi.uribl.com')).toEqual([]);
      expect(find(findings, 'blocklist.clean', 'clean.example')).toHaveLength(1);
    });
  });

  it('queries through DQS and keeps the key out of every output', async () => {
    const context = testContext(
      definition,
      {
        resolver,
        dqsKey: 'ssm:/watchkeeper/dqs-key',
        addresses: ['192.0.2.10', '192.0.2.14'],
        zones: ['spamhaus-zen'],
      },
      { secrets: { 'ssm:/watchkeeper/dqs-key': KEY } },
    );
    const outcome = await definition.run(context);
    expect(
      find(outcome.findings, 'blocklist.listed', '192.0.2.10', '[redacted].zen.dq.spamhaus.net'),
    ).toHaveLength(1);
    expect(find(outcome.findings, 'blocklist.clean', '192.0.2.14')).toHaveLength(1);
    expect(JSON.stringify({ outcome, logs: context.logs }).toLowerCase()).not.toContain(KEY);
  });
});
