import { describe, expect, it } from 'vitest';
import { dnsSectionSchema } from '#functions/check-dns/config.ts';

function issues(input: unknown): string[] {
  const result = dnsSectionSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('dns section schema', () => {
  it('fills defaults and accepts a partial override such as {"domains": [...]}', () => {
    const parsed = dnsSectionSchema.parse({
      domains: [{ name: 'example.com', records: { MX: ['10 mx.example.com'] } }],
    });
    expect(parsed).toMatchObject({
      schedule: 'rate(1 hour)',
      authoritative: false,
      authoritativePort: 53,
      timeoutMs: 3000,
    });
    expect(parsed.domains[0]?.records?.MX).toEqual({
      values: ['10 mx.example.com'],
      match: 'exact',
      severity: 'critical',
    });
  });

  it('treats an IPv4-mapped IPv6 sender as the IPv4 address it is', () => {
    const parsed = dnsSectionSchema.parse({
      domains: [
        { name: 'example.com', mail: { senders: [{ ip: '::FFFF:192.0.2.25', hostname: 'mx.example.com' }] } },
      ],
    });
    expect(parsed.domains[0]?.mail?.senders[0]?.ip).toBe('192.0.2.25');
  });

  it('names the field and what was expected', () => {
    expect(issues({ domains: [{ name: 'example.com', records: { SRV: ['x'] } }] })).toEqual([
      'domains.0.records: Unrecognized key: "SRV"',
    ]);
    expect(
      issues({
        domains: [
          { name: 'example.com', mail: { senders: [{ ip: '300.1.1.1', hostname: 'mx.example.com' }] } },
        ],
      }),
    ).toEqual(['domains.0.mail.senders.0.ip: expected an IPv4 or IPv6 address']);
    expect(issues({ domains: [{ name: 'example.com' }] })).toEqual([
      'domains.0: expected "records" (pinned record sets) or "mail" (mail DNS checks), or both',
    ]);
    expect(issues({ resolver: 'dns.google' })[0]).toContain('resolver');
    expect(issues({ domains: [{ name: 'example.com', mail: { dkimSelectors: ['bad selector'] } }] })).toEqual(
      ['domains.0.mail.dkimSelectors.0: expected a DKIM selector such as "s1" or "google"'],
    );
  });
});
