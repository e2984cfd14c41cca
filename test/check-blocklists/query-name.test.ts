import { describe, expect, it } from 'vitest';
import { publicResolverFindings } from '#functions/check-blocklists/findings.ts';
import {
  activateZone,
  createRedactor,
  dnsblQueryName,
  redactDeep,
} from '#functions/check-blocklists/query-name.ts';
import { normaliseAddress } from '#functions/check-blocklists/targets.ts';
import { BUILTIN_ZONES } from '#functions/check-blocklists/zones.ts';

const zen = BUILTIN_ZONES['spamhaus-zen'];
const dbl = BUILTIN_ZONES['spamhaus-dbl'];

describe('DNSBL query names', () => {
  it('reverses IPv4 octets', () => {
    expect(dnsblQueryName({ queryZone: 'bl.spamcop.net' }, '192.0.2.99', 'ip')).toBe(
      '99.2.0.192.bl.spamcop.net',
    );
  });

  it('uses 32 reversed nibbles for IPv6 (RFC 5782 §2.4)', () => {
    const name = dnsblQueryName({ queryZone: 'zen.spamhaus.org' }, '2001:db8::1:25', 'ip');
    expect(name).toBe('5.2.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org');
    const testPoint = dnsblQueryName({ queryZone: 'z' }, '::FFFF:7F00:2', 'ip');
    expect(testPoint.split('.')).toHaveLength(33);
    expect(testPoint.startsWith('2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0')).toBe(true);
  });

  it('uses the domain itself, lower-cased and without the root dot, for domain lists', () => {
    expect(dnsblQueryName({ queryZone: 'dbl.spamhaus.org' }, 'Mail.Example.COM.', 'domain')).toBe(
      'mail.example.com.dbl.spamhaus.org',
    );
  });

  it('puts the DQS key in front of the DQS zone and shows it redacted', () => {
    if (!zen || !dbl) throw new Error('catalogue incomplete');
    const key = 'abcdefghijklmnopqrstuvwxyz';
    const active = activateZone(zen, key);
    expect(dnsblQueryName(active, '192.0.2.1', 'ip')).toBe(`1.2.0.192.${key}.zen.dq.spamhaus.net`);
    expect(active.displayZone).toBe('[redacted].zen.dq.spamhaus.net');
    expect(dnsblQueryName(activateZone(dbl, key), 'example.com', 'domain')).toBe(
      `example.com.${key}.dbl.dq.spamhaus.net`,
    );
    expect(activateZone(zen, undefined).queryZone).toBe('zen.spamhaus.org');
  });

  it('maps IPv4-mapped IPv6 targets to IPv4', () => {
    expect(normaliseAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(normaliseAddress('::FFFF:c000:0207')).toBe('192.0.2.7');
    expect(normaliseAddress('2001:DB8::1')).toBe('2001:db8::1');
  });
});

describe('redaction', () => {
  it('replaces the key case-insensitively in nested strings and keys', () => {
    const redact = createRedactor(['SecretKey123']);
    expect(
      redactDeep({ a: 'x.secretkey123.zen', b: ['SECRETKEY123'], secretkey123: 1, n: 4 }, redact),
    ).toEqual({ a: 'x.[redacted].zen', b: ['[redacted]'], '[redacted]': 1, n: 4 });
  });
});

describe('public resolvers', () => {
  const spec = (id: string) => {
    const zone = BUILTIN_ZONES[id];
    if (!zone) throw new Error(`no zone ${id}`);
    return zone;
  };

  it('warns when a configured resolver is a public one that a selected zone refuses', () => {
    const zones = [activateZone(spec('spamhaus-zen'), undefined), activateZone(spec('spamcop'), undefined)];
    const findings = publicResolverFindings([{ host: '127.0.0.1' }, { host: '8.8.8.8' }], zones);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      code: 'blocklist.public-resolver',
      target: '8.8.8.8',
      severity: 'warning',
    });
    expect(findings[0]?.message).toMatch(
      /Google Public DNS, a public resolver that Spamhaus ZEN refuse.*DQS key/,
    );
  });

  it('does not warn when the refusing zones are queried through DQS, or none refuses', () => {
    const dqs = [activateZone(spec('spamhaus-zen'), 'abcdefghijklmnopqrstuvwxyz')];
    expect(publicResolverFindings([{ host: '1.1.1.1' }], dqs)).toEqual([]);
    expect(publicResolverFindings([{ host: '1.1.1.1' }], [activateZone(spec('psbl'), undefined)])).toEqual(
      [],
    );
  });
});
