/**
 * check-blocklists the way it runs for real: through a recursive resolver (Debian's unbound) in
 * front of the lists' authoritative servers (rbldnsd). Multi-code answers and TXT reasons must
 * survive the resolver; an authoritative server that never answers, and one that refuses the zone
 * (which unbound turns into SERVFAIL), must come out as `unknown`, never as clean.
 * Needs the `rbldnsd` and `unbound` packages (CI installs them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-blocklists/job.ts';
import type { Finding } from '#shared/findings.ts';
import { type Daemon, freeUdpPort, startRbldnsd, startUnbound } from '../check-blocklists/daemons.ts';
import { testContext } from '../support/context.ts';

const KEY = 'unbounddqskey0000000000042';

const FILES: Record<string, string> = {
  sbl: ':127.0.0.2:SBL listed, see https://check.spamhaus.org/sbl/query/$\n127.0.0.2\n192.0.2.10\n',
  pbl: ':127.0.0.10:PBL listed\n127.0.0.2\n192.0.2.10\n',
  spamcop: ':127.0.0.2:Blocked - see https://www.spamcop.net/bl.shtml?$\n127.0.0.2\n',
};

describe('check-blocklists through unbound in front of rbldnsd', () => {
  let rbldnsd: Daemon;
  let unbound: Daemon;
  let findings: Finding[];
  let everything: string;

  beforeAll(async () => {
    rbldnsd = await startRbldnsd(FILES, [
      'zen.spamhaus.org:ip4set:sbl',
      'zen.spamhaus.org:ip4set:pbl',
      `${KEY}.zen.dq.spamhaus.net:ip4set:sbl`,
      `${KEY}.zen.dq.spamhaus.net:ip4set:pbl`,
      'bl.spamcop.net:ip4set:spamcop',
    ]);
    const silent = `127.0.0.1:${await freeUdpPort()}`;
    unbound = await startUnbound([
      { zone: 'zen.spamhaus.org', server: rbldnsd.address },
      { zone: 'zen.dq.spamhaus.net', server: rbldnsd.address },
      { zone: 'bl.spamcop.net', server: rbldnsd.address },
      // Nothing listens there: the list's servers are down.
      { zone: 'dnsbl-1.uceprotect.net', server: silent },
      // rbldnsd does not serve this zone and answers REFUSED; unbound turns that into SERVFAIL.
      { zone: 'psbl.surriel.com', server: rbldnsd.address },
    ]);
    const context = testContext(
      definition,
      {
        resolver: unbound.address,
        timeoutMs: 1500,
        dqsKey: 'ssm:/watchkeeper/dqs-key',
        addresses: ['192.0.2.10', '192.0.2.14'],
        zones: ['spamhaus-zen', 'spamcop', 'uceprotect-1', 'psbl'],
      },
      { secrets: { 'ssm:/watchkeeper/dqs-key': KEY } },
    );
    const outcome = await definition.run(context);
    findings = outcome.findings;
    everything = JSON.stringify({ outcome, logs: context.logs }).toLowerCase();
  });
  afterAll(async () => {
    await unbound?.stop();
    await rbldnsd?.stop();
  });

  it('keeps every code and the TXT reason of a DQS answer through the resolver', () => {
    const subject = '[redacted].zen.dq.spamhaus.net';
    const listed = findings.filter(
      (finding) => finding.target === '192.0.2.10' && finding.subject === subject,
    );
    expect(listed.map((finding) => finding.code).sort()).toEqual([
      'blocklist.listed',
      'blocklist.policy-listed',
    ]);
    expect(listed.find((finding) => finding.code === 'blocklist.listed')?.message).toContain(
      'https://check.spamhaus.org/sbl/query/192.0.2.10',
    );
    expect(everything).not.toContain(KEY);
  });

  it('reports a list whose servers never answer as lookup-failed, not clean', () => {
    const [down] = findings.filter(
      (finding) => finding.code === 'blocklist.lookup-failed' && finding.target === 'dnsbl-1.uceprotect.net',
    );
    expect(down?.severity).toBe('unknown');
    expect(down?.message).toMatch(/could not be health-checked/);
  });

  it("reports the resolver's SERVFAIL for a refused zone as lookup-failed", () => {
    const [refused] = findings.filter(
      (finding) => finding.code === 'blocklist.lookup-failed' && finding.target === 'psbl.surriel.com',
    );
    expect(refused?.message).toMatch(/SERVFAIL/);
  });

  it('calls the clean address clean on the zones that worked and names the others', () => {
    const [clean] = findings.filter(
      (finding) => finding.code === 'blocklist.clean' && finding.target === '192.0.2.14',
    );
    expect(clean?.message).toMatch(
      /not listed on any of the 2 blocklists checked \(2 more could not be used this run: UCEPROTECT level 1, PSBL\)/,
    );
  });
});
