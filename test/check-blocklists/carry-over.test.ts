import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-blocklists/job.ts';
import { type RunningDnsServer, startDnsServer } from '#sandbox/dns-server.ts';
import { reversedAddress } from '#shared/dns/names.ts';
import { MemoryStateStore } from '#shared/state/memory.ts';
import { testContext } from '../support/context.ts';
import { listing, testPoint } from './records.ts';

const LISTED = '192.0.2.10';
const OTHER = '192.0.2.14';

describe('listings kept across runs that cannot see them', () => {
  let listedServer: RunningDnsServer;
  let refusingServer: RunningDnsServer;
  let failingServer: RunningDnsServer;
  let delistedServer: RunningDnsServer;
  beforeAll(async () => {
    const healthy = [...testPoint('bl.spamcop.net'), ...testPoint('psbl.surriel.com')];
    listedServer = await startDnsServer({
      records: [...healthy, ...listing('bl.spamcop.net', LISTED, ['127.0.0.2'], 'reported')],
    });
    // The zone now answers like a parked domain: everything listed, test points included.
    refusingServer = await startDnsServer({
      records: [{ name: '*.bl.spamcop.net', type: 'A', data: '127.0.0.2' }, ...testPoint('psbl.surriel.com')],
    });
    // The zone is healthy but the lookup of the listed address fails.
    failingServer = await startDnsServer({
      records: healthy,
      misbehaviours: [{ name: `${reversedAddress(LISTED)}.bl.spamcop.net`, action: 'servfail' }],
    });
    delistedServer = await startDnsServer({ records: healthy });
  });
  afterAll(async () => {
    await Promise.all(
      [listedServer, refusingServer, failingServer, delistedServer].map((server) => server.close()),
    );
  });

  const run = async (server: RunningDnsServer, state: MemoryStateStore, day: string) => {
    const context = testContext(
      definition,
      { resolver: server.address, addresses: [LISTED, OTHER], zones: ['spamcop', 'psbl'] },
      { state, now: new Date(`2026-11-${day}T06:00:00Z`) },
    );
    return definition.run(context);
  };

  it('re-reports the last confirmed listing while the zone is broken or the lookup fails, until it is clean', async () => {
    const state = new MemoryStateStore(() => Date.parse('2026-11-20T06:00:00Z'));
    const first = await run(listedServer, state, '20');
    expect(first.findings.filter((finding) => finding.code === 'blocklist.listed')).toHaveLength(1);

    const broken = await run(refusingServer, state, '21');
    const kept = broken.findings.filter((finding) => finding.code === 'blocklist.listed');
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ target: LISTED, subject: 'bl.spamcop.net', severity: 'critical' });
    expect(kept[0]?.message).toMatch(
      /^Not re-checked this run \(SpamCop could not be looked up\), last confirmed 2026-11-20 06:00 UTC: 192\.0\.2\.10 is listed/,
    );
    expect(kept[0]?.data).toMatchObject({ carriedOver: true, lastConfirmedAt: '2026-11-20T06:00:00.000Z' });
    expect(
      broken.findings
        .filter((finding) => finding.code === 'blocklist.clean')
        .map((finding) => finding.target),
    ).toEqual([OTHER]);
    expect(broken.stats).toMatchObject({ listingsCarriedOver: 1 });

    const failing = await run(failingServer, state, '22');
    expect(failing.findings.filter((finding) => finding.code === 'blocklist.listed')[0]?.data).toMatchObject({
      carriedOver: true,
      lastConfirmedAt: '2026-11-20T06:00:00.000Z',
    });

    const delisted = await run(delistedServer, state, '23');
    expect(delisted.findings.filter((finding) => finding.code === 'blocklist.listed')).toEqual([]);
    expect(delisted.findings.filter((finding) => finding.code === 'blocklist.clean')).toHaveLength(2);
  });
});
