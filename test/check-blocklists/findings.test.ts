import { describe, expect, it } from 'vitest';
import type { CheckResult } from '#functions/check-blocklists/check.ts';
import { targetFindings } from '#functions/check-blocklists/findings.ts';
import { activateZone } from '#functions/check-blocklists/query-name.ts';
import type { AddressTarget } from '#functions/check-blocklists/targets.ts';
import { BUILTIN_ZONES } from '#functions/check-blocklists/zones.ts';

function zone(id: string) {
  const spec = BUILTIN_ZONES[id];
  if (!spec) throw new Error(`no zone ${id}`);
  return activateZone(spec, undefined);
}

describe('targetFindings', () => {
  const spamcop = zone('spamcop');
  const psbl = zone('psbl');
  const uce = zone('uceprotect-1');
  const target: AddressTarget = { kind: 'ip', address: '192.0.2.1', family: 4, sendsMail: true, sources: [] };
  const healthy = (active: typeof spamcop) => ({
    zone: active,
    family: 'ipv4' as const,
    health: { status: 'healthy' as const, testPoints: { listed: '127.0.0.2', notListed: '127.0.0.1' } },
  });

  it('names zones that were unusable and zones the deadline kept from being queried', () => {
    const result: CheckResult = {
      health: [
        healthy(spamcop),
        healthy(psbl),
        {
          zone: uce,
          family: 'ipv4',
          health: {
            status: 'failed',
            reason: 'timeout',
            testPoints: { listed: '127.0.0.2', notListed: '127.0.0.1' },
          },
        },
      ],
      lookups: [{ target, zone: spamcop, verdict: { kind: 'clean', via: 'nxdomain' }, reasons: [] }],
      notStarted: ['192.0.2.1 on psbl.surriel.com'],
      healthNotStarted: [],
    };
    const [clean] = targetFindings([target], [spamcop, psbl, uce], result);
    expect(clean).toMatchObject({ code: 'blocklist.clean', severity: 'ok' });
    expect(clean?.message).toBe(
      '192.0.2.1 is not listed on the one blocklist checked (1 more could not be used this run: UCEPROTECT level 1; 1 not reached before the deadline: PSBL).',
    );
  });
});
