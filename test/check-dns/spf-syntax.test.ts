import { describe, expect, it } from 'vitest';
import { domainSpecError, isSpfRecord, parseSpf } from '#functions/check-dns/spf-syntax.ts';

describe('isSpfRecord', () => {
  it('needs v=spf1 followed by a space or the end', () => {
    expect(isSpfRecord('v=spf1 -all')).toBe(true);
    expect(isSpfRecord('V=SPF1')).toBe(true);
    expect(isSpfRecord('v=spf10 -all')).toBe(false);
    expect(isSpfRecord('spf2.0/pra -all')).toBe(false);
  });
});

describe('parseSpf', () => {
  it('parses qualifiers, mechanisms, CIDRs and modifiers', () => {
    const parsed = parseSpf(
      'v=spf1 a/24 mx:mail.example.com//64 -ip4:192.0.2.0/24 ~ip6:2001:db8::/32 include:_spf.example.com ?exists:%{i}.x.example.com redirect=_spf.example.net exp=explain.example.com foo=bar',
    );
    expect(parsed.errors).toEqual([]);
    expect(
      parsed.directives.map(
        (directive) => `${directive.qualifier}${directive.mechanism}:${directive.value ?? ''}`,
      ),
    ).toEqual([
      '+a:',
      '+mx:mail.example.com',
      '-ip4:192.0.2.0/24',
      '~ip6:2001:db8::/32',
      '+include:_spf.example.com',
      '?exists:%{i}.x.example.com',
    ]);
    expect(parsed.redirect).toBe('_spf.example.net');
    expect(parsed.exp).toBe('explain.example.com');
  });

  it('names each syntax error', () => {
    const parsed = parseSpf(
      'v=spf1 ip4:10.0.0.1/33 ip6:192.0.2.1 include: all:x a:host..example.com redirect=a.example.com redirect=b.example.com ptr/24 mx:example.123 a:',
    );
    expect(parsed.errors).toEqual([
      '"ip4:10.0.0.1/33" has an IPv4 prefix length outside 0-32',
      '"ip6:192.0.2.1" needs an IPv6 address (ip6:2001:db8::/32)',
      '"include:" needs a domain (include:<domain>)',
      '"all:x" takes no argument',
      '"a:host..example.com" has a domain that has an empty label or a label longer than 63 characters',
      '"redirect=" appears more than once',
      '"ptr/24" is not a known mechanism (a receiver returns permerror)',
      '"mx:example.123" has a domain that ends in "123", which is not a valid top-level label',
      '"a:" has an empty domain',
    ]);
  });

  it('rejects malformed macros but accepts valid ones', () => {
    expect(domainSpecError('%{ir}.%{v}._spf.%{d2}')).toBeUndefined();
    expect(domainSpecError('%{x}.example.com')).toContain('malformed macro');
    expect(domainSpecError('a%b.example.com')).toContain('malformed macro');
  });
});
