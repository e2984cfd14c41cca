import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-blocklists/job.ts';
import { demoPart } from '#sandbox/check-blocklists.ts';
import { type RunningDnsServer, startDnsServer } from '#sandbox/dns-server.ts';
import type { Finding } from '#shared/findings.ts';
import { testContext } from '../support/context.ts';

describe('the check-blocklists demo part', () => {
  let server: RunningDnsServer;
  let findings: Finding[];
  beforeAll(async () => {
    server = await startDnsServer({ records: demoPart.records ?? [] });
    const started = await demoPart.start({ resolver: server.address });
    findings = (await definition.run(testContext(definition, started.section, { inLambda: true }))).findings;
    await started.close();
  });
  afterAll(() => server.close());

  it('shows a listing, a policy listing, a dead list, a Spamhaus refusal and a clean server', () => {
    const summary = findings.map((finding) => `${finding.severity} ${finding.code} ${finding.target}`).sort();
    expect(summary).toEqual([
      'critical blocklist.listed 203.0.113.25',
      'info blocklist.dqs-key-missing spamhaus',
      'ok blocklist.clean 203.0.113.26',
      'unknown blocklist.query-refused zen.spamhaus.org',
      'unknown blocklist.zone-broken dead.demo.test',
      'warning blocklist.policy-listed 203.0.113.80',
    ]);
  });
});
