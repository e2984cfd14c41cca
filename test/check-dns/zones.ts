/**
 * Test zones for check-dns, as data: the default suite serves them from sandbox/dns-server.ts, the
 * interop suite from Debian's unbound (local-data). One domain per case so assertions stay exact.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { ZoneRecord } from '#sandbox/dns-server.ts';

/** A TXT record; long strings are split into 255-byte character-strings as DNS requires. */
export function txt(name: string, value: string, ttl = 300): ZoneRecord {
  const chunks: string[] = [];
  for (let index = 0; index < value.length; index += 255) chunks.push(value.slice(index, index + 255));
  return { name, type: 'TXT', ttl, data: chunks.length > 0 ? chunks : [''] };
}

/** An A or AAAA record by address family. */
export function address(name: string, ip: string): ZoneRecord {
  return { name, type: ip.includes(':') ? 'AAAA' : 'A', data: ip };
}

/** An MX record. */
export function mx(name: string, preference: number, exchange: string): ZoneRecord {
  return { name, type: 'MX', data: { preference, exchange } };
}

/** A PTR record for an address (IPv4 or IPv6). */
export function ptr(reverseName: string, host: string): ZoneRecord {
  return { name: reverseName, type: 'PTR', data: host };
}

/** A DKIM key record with an RSA key of `bits` (SPKI, base64, as RFC 6376 publishes it). */
export function dkimRsa(name: string, bits: number): ZoneRecord {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return txt(name, `v=DKIM1; k=rsa; p=${der.toString('base64')}`);
}

/** The SPF record of an include chain of `length` lookups ending at `ip`: c1 → c2 → … → leaf. */
export function spfChain(domain: string, length: number, ip: string): ZoneRecord[] {
  const records: ZoneRecord[] = [];
  const hop = (index: number) => `c${index}.${domain}`;
  records.push(txt(domain, `v=spf1 include:${hop(1)} -all`));
  for (let index = 1; index < length; index += 1)
    records.push(txt(hop(index), `v=spf1 include:${hop(index + 1)} -all`));
  records.push(txt(hop(length), `v=spf1 ip4:${ip} -all`));
  return records;
}

/** Reverse names used below (written out so a reader sees them). */
export const REVERSE = {
  good4: '25.2.0.192.in-addr.arpa',
  good6: '5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
  mismatch4: '30.2.0.192.in-addr.arpa',
  badv6: '1.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
} as const;

const GOOD_SPF = 'v=spf1 mx ip4:192.0.2.25 ip6:2001:db8::25 -all';

/** Every record of the test zones. */
export function testZones(): ZoneRecord[] {
  return [
    // good.test: healthy mail domain, IPv4 and IPv6 sender with forward-confirmed PTR.
    mx('good.test', 10, 'mx1.good.test'),
    address('mx1.good.test', '192.0.2.25'),
    address('mx1.good.test', '2001:db8::25'),
    { name: 'good.test', type: 'NS', data: 'ns1.good.test' },
    { name: 'good.test', type: 'NS', data: 'ns2.good.test' },
    address('good.test', '192.0.2.80'),
    address('good.test', '2001:db8::80'),
    txt('good.test', GOOD_SPF),
    txt('good.test', 'google-site-verification=AbC123'),
    { name: 'good.test', type: 'CAA', data: { flags: 0, tag: 'issue', value: 'letsencrypt.org' } },
    txt('_dmarc.good.test', 'v=DMARC1; p=reject; rua=mailto:dmarc@good.test'),
    dkimRsa('s1._domainkey.good.test', 2048),
    ptr(REVERSE.good4, 'mx1.good.test'),
    ptr(REVERSE.good6, 'mx1.good.test.'),
    { name: 'www.good.test', type: 'CNAME', data: 'good.test' },
    // sub.good.test: no DMARC of its own, inherits good.test's (sp= absent → p=reject).
    mx('sub.good.test', 10, 'mx1.good.test'),
    txt('sub.good.test', GOOD_SPF),
    // Subdomain of nonepol.test inherits sp=none.
    mx('nonepol.test', 10, 'mx1.good.test'),
    txt('nonepol.test', GOOD_SPF),
    txt('_dmarc.nonepol.test', 'v=DMARC1; p=reject; sp=none'),
    mx('child.nonepol.test', 10, 'mx1.good.test'),
    txt('child.nonepol.test', GOOD_SPF),
    // lost.test: moved provider, lost its MX; the A record remains (silent RFC 5321 fallback).
    address('lost.test', '192.0.2.40'),
    txt('lost.test', 'v=spf1 ip4:192.0.2.40 -all'),
    txt('_dmarc.lost.test', 'v=DMARC1; p=quarantine'),
    // nullmx.test: accepts no mail (RFC 7505).
    mx('nullmx.test', 0, '.'),
    txt('nullmx.test', 'v=spf1 -all'),
    txt('_dmarc.nullmx.test', 'v=DMARC1; p=reject'),
    // noaddr.test: an MX host that has no address, next to one that works.
    mx('noaddr.test', 10, 'ghost.noaddr.test'),
    mx('noaddr.test', 20, 'mx1.good.test'),
    txt('noaddr.test', 'v=spf1 -all'),
    txt('_dmarc.noaddr.test', 'v=DMARC1; p=reject'),
    // Senders with broken reverse DNS.
    ptr(REVERSE.mismatch4, 'host-30.cloud.test'),
    address('host-30.cloud.test', '192.0.2.99'),
    ptr(REVERSE.badv6, 'mx6.broken.test'),
    txt('broken.test', 'v=spf1 ip4:192.0.2.30 ip4:192.0.2.31 ip6:2001:db8::31 -all'),
    mx('broken.test', 10, 'mx1.good.test'),
    txt('_dmarc.broken.test', 'v=DMARC1; p=reject'),
    // SPF lookup chains of 9, 10 and 11 includes ending at 192.0.2.50.
    ...spfChain('chain9.test', 9, '192.0.2.50'),
    ...spfChain('chain10.test', 10, '192.0.2.50'),
    ...spfChain('chain11.test', 11, '192.0.2.50'),
    // Three void lookups (a: and mx: names that do not exist, an empty include-free exists:).
    txt(
      'void.test',
      'v=spf1 a:gone1.void.test mx:gone2.void.test exists:gone3.void.test ip4:192.0.2.60 -all',
    ),
    // An include loop.
    txt('loop.test', 'v=spf1 include:loop2.test -all'),
    txt('loop2.test', 'v=spf1 include:loop.test ~all'),
    // Two SPF records.
    txt('multi.test', 'v=spf1 ip4:192.0.2.70 -all'),
    txt('multi.test', 'v=spf1 ip4:192.0.2.71 -all'),
    // A redirect, and a permissive +all and ?all.
    txt('redirect.test', 'v=spf1 redirect=_spf.redirect.test'),
    txt('_spf.redirect.test', 'v=spf1 ip4:192.0.2.20 -all'),
    txt('permissive.test', 'v=spf1 ip4:192.0.2.21 +all'),
    txt('neutral.test', 'v=spf1 ip4:192.0.2.22 ?all'),
    txt('viaplus.test', 'v=spf1 include:plus.viaplus.test -all'),
    txt('plus.viaplus.test', 'v=spf1 +all'),
    txt('badsyntax.test', 'v=spf1 ip4:192.0.2.300 inclde:x.test -all'),
    // Counting traps of other linters: an IPv6-only a: target is not void, the MX hosts' address
    // lookups are not lookups, exp= is not counted, a ptr counts but cannot be followed.
    txt(
      'counting.test',
      'v=spf1 a:v6only.counting.test mx:counting.test ptr exists:%{i}.rbl.counting.test exp=explain.counting.test -all',
    ),
    address('v6only.counting.test', '2001:db8::66'),
    ...Array.from({ length: 10 }, (_, index) => mx('counting.test', index, `mx${index}.counting.test`)),
    ...Array.from({ length: 10 }, (_, index) =>
      address(`mx${index}.counting.test`, `192.0.2.${100 + index}`),
    ),
    txt('explain.counting.test', 'Not authorised'),
    txt('toomanymx.test', 'v=spf1 mx -all'),
    ...Array.from({ length: 11 }, (_, index) => mx('toomanymx.test', index, `mx${index}.counting.test`)),
    // DMARC problems.
    txt('_dmarc.badmarc.test', 'v=DMARC1; p=block; pct=150'),
    // DKIM keys: weak, very weak, revoked.
    dkimRsa('weak._domainkey.good.test', 1024),
    dkimRsa('tiny._domainkey.good.test', 512),
    txt('old._domainkey.good.test', 'v=DKIM1; k=rsa; p='),
  ];
}
