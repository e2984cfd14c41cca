import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-blocklists/job.ts';
import { type RunningDnsServer, startDnsServer } from '#sandbox/dns-server.ts';
import { reversedAddress } from '#shared/dns/names.ts';
import { testContext } from '../support/context.ts';
import { testPoint } from './records.ts';

const SLOW = Array.from({ length: 12 }, (_, index) => `192.0.2.${100 + index}`);

describe('the deadline', () => {
  let server: RunningDnsServer;
  beforeAll(async () => {
    server = await startDnsServer({
      records: testPoint('bl.spamcop.net'),
      misbehaviours: SLOW.map((address) => ({
        name: `${reversedAddress(address)}.bl.spamcop.net`,
        action: 'drop' as const,
      })),
    });
  });
  afterAll(() => server.close());

  it('stops starting lookups near the deadline and says what it did not reach', async () => {
    const context = testContext(
      definition,
      {
        resolver: server.address,
        addresses: SLOW,
        zones: ['spamcop'],
        timeoutMs: 300,
        retries: 0,
        concurrency: 1,
      },
      { budgetMs: 1500 },
    );
    const outcome = await definition.run(context);
    expect(outcome.incomplete?.message).toMatch(
      /blocklist checks were not started before the deadline \(first: 192\.0\.2\.\d+ on bl\.spamcop\.net/,
    );
    const failed = outcome.findings.filter((finding) => finding.code === 'blocklist.lookup-failed');
    const notReached = Number(
      (outcome.incomplete?.data as { notReachedCount?: number } | undefined)?.notReachedCount,
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length + notReached).toBe(SLOW.length);
    // What was not reached is not reported as clean.
    expect(outcome.findings.filter((finding) => finding.code === 'blocklist.clean')).toEqual([]);
  });
});
