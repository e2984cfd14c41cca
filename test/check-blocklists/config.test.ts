import { describe, expect, it } from 'vitest';
import { blocklistsSchema } from '#functions/check-blocklists/config.ts';
import { definition, selectZones } from '#functions/check-blocklists/job.ts';

function issues(input: unknown): string[] {
  const result = blocklistsSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('blocklists section', () => {
  it('fills in defaults: 5 s timeout, one retry, the default zones without Barracuda', () => {
    const section = blocklistsSchema.parse({ addresses: ['192.0.2.1'] });
    expect(section).toMatchObject({ timeoutMs: 5000, retries: 1, schedule: 'rate(6 hours)' });
    expect(selectZones(section).map((zone) => zone.id)).toEqual([
      'spamhaus-zen',
      'spamhaus-dbl',
      'spamcop',
      'psbl',
      'uceprotect-1',
      'uceprotect-2',
      'uceprotect-3',
    ]);
    const registered = blocklistsSchema.parse({ addresses: ['192.0.2.1'], registeredResolver: true });
    expect(selectZones(registered).map((zone) => zone.id)).toContain('barracuda');
  });

  it('accepts a partial section such as an invocation override', () => {
    expect(issues({ domains: ['example.com'] })).toEqual([]);
  });

  it('names the field and what was expected', () => {
    expect(issues({ addresses: ['192.0.2.300'] })).toEqual([
      expect.stringMatching(/^addresses\.0: .*IPv4 or IPv6 address/),
    ]);
    expect(issues({})).toEqual(['addresses: expected at least one target in addresses, domains or fromDns']);
    expect(issues({ addresses: ['192.0.2.1'], zones: ['barracuda'] })).toEqual([
      'zones: barracuda answers only resolvers registered with it: set registeredResolver: true',
    ]);
    expect(issues({ addresses: ['192.0.2.1'], dqsKey: 'my-key' })).toEqual([
      expect.stringMatching(/^dqsKey: expected an SSM Parameter Store reference/),
    ]);
    expect(issues({ addresses: ['192.0.2.1'], zones: ['sorbs'] })[0]).toMatch(/^zones\.0: /);
    expect(issues({ addresses: ['192.0.2.1'], zones: [] })).toEqual([
      'zones: expected at least one zone: name built-in zones or add customZones',
    ]);
  });

  it('rejects dead lists and duplicate ids among custom zones', () => {
    expect(
      issues({ addresses: ['192.0.2.1'], customZones: [{ id: 'sorbs', zone: 'dnsbl.sorbs.net' }] }),
    ).toEqual([
      'customZones.0.zone: sorbs.net is a dead list (it answers nothing, or "listed" for everything): remove it',
    ]);
    expect(
      issues({ addresses: ['192.0.2.1'], customZones: [{ id: 'spamcop', zone: 'bl.example.net' }] }),
    ).toEqual(['customZones.0.id: "spamcop" is already used by another zone: pick another id']);
    expect(
      issues({
        addresses: ['192.0.2.1'],
        customZones: [{ id: 'x', zone: 'bl.example.net', codes: { '10.0.0.2': { meaning: 'x' } } }],
      })[0],
    ).toMatch(/^customZones\.0\.codes.*127\.0\.0\.0\/8/);
  });

  it('asks for ssm:GetParameter on the DQS key parameter only when a key is configured', () => {
    const permissions = definition.permissions ?? (() => []);
    expect(permissions(blocklistsSchema.parse({ addresses: ['192.0.2.1'] }))).toEqual([]);
    expect(
      permissions(blocklistsSchema.parse({ addresses: ['192.0.2.1'], dqsKey: 'ssm:/watchkeeper/dqs-key' })),
    ).toEqual([
      {
        actions: ['ssm:GetParameter'],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation substitution, not a template
        resources: ['arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter/watchkeeper/dqs-key'],
      },
    ]);
  });
});
