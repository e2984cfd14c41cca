import { describe, expect, it } from 'vitest';
import { definition } from '#functions/check-mail-servers/job.ts';
import { demoPart } from '#sandbox/check-mail-servers.ts';
import { startDnsServer } from '#sandbox/dns-server.ts';
import { testContext } from '../support/context.ts';

describe('the check-mail-servers demo part', () => {
  it('shows a healthy MX, AUTH before TLS and an open relay with a wrong banner', async () => {
    const dns = await startDnsServer({ records: demoPart.records ?? [] });
    const started = await demoPart.start({ resolver: dns.address });
    try {
      const { findings } = await definition.run(testContext(definition, started.section));
      expect(findings.map((finding) => `${finding.code}:${finding.severity}`).sort()).toEqual([
        'smtp.auth-before-tls:critical',
        'smtp.banner-mismatch:warning',
        'smtp.ok:ok',
        'smtp.open-relay:critical',
      ]);
    } finally {
      await started.close();
      await dns.close();
    }
  });
});
