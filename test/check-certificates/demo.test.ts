/** The demo part serves what it promises: each demo host yields the finding the README shows. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-certificates/job.ts';
import { demoPart } from '#sandbox/check-certificates.ts';
import type { StartedDemoPart } from '#sandbox/demo-part.ts';
import { type RunningDnsServer, startDnsServer } from '#sandbox/dns-server.ts';
import type { JobOutcome } from '#shared/job.ts';
import { testContext } from '../support/context.ts';

let dns: RunningDnsServer;
let part: StartedDemoPart;
let outcome: JobOutcome;

beforeAll(async () => {
  dns = await startDnsServer({ records: demoPart.records ?? [] });
  part = await demoPart.start({ resolver: dns.address });
  outcome = await definition.run(testContext(definition, part.section));
}, 60_000);

afterAll(async () => {
  await part?.close();
  await dns?.close();
});

describe('the check-certificates demo part', () => {
  it('shows every certificate state it sets up', () => {
    const byHost = new Map<string, string[]>();
    for (const finding of outcome.findings) {
      const host = finding.target.split('.')[0] ?? '';
      byHost.set(host, [...(byHost.get(host) ?? []), finding.code].sort());
    }
    expect(Object.fromEntries(byHost)).toEqual({
      www: ['certificate.ok'],
      api: ['certificate.expiring'],
      legacy: ['certificate.expired'],
      intranet: ['certificate.hostname-mismatch'],
      admin: ['certificate.self-signed'],
      billing: ['certificate.incomplete-chain'],
      shop: ['certificate.divergent', 'certificate.expiring'],
      mail: ['certificate.ok'],
      db: ['certificate.ok'],
      vpn: ['certificate.chain-expiring'],
      status: ['endpoint.timeout'],
    });
  });
});
