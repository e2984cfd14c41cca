/** Builds DNSBL zone records for the sandbox DNS server the way a list publishes them. */
import type { ZoneRecord } from '#sandbox/dns-server.ts';
import { reversedAddress } from '#shared/dns/names.ts';
import type { Finding } from '#shared/findings.ts';

/** A and optional TXT records listing `item` (an address or a domain) on `zone` with `codes`. */
export function listing(zone: string, item: string, codes: readonly string[], txt?: string): ZoneRecord[] {
  const name = `${/^[\d.]+$/.test(item) || item.includes(':') ? reversedAddress(item) : item}.${zone}`;
  return [
    ...codes.map((code): ZoneRecord => ({ name, type: 'A', data: code })),
    ...(txt === undefined ? [] : [{ name, type: 'TXT', data: txt } satisfies ZoneRecord]),
  ];
}

/** The RFC 5782 IPv4 test point 127.0.0.2 listed with `codes` (127.0.0.1 is simply absent). */
export function testPoint(zone: string, codes: readonly string[] = ['127.0.0.2']): ZoneRecord[] {
  return listing(zone, '127.0.0.2', codes);
}

/** The RFC 5782 IPv6 test point ::ffff:7f00:2. */
export function testPointV6(zone: string, codes: readonly string[] = ['127.0.0.2']): ZoneRecord[] {
  return listing(zone, '::ffff:7f00:2', codes);
}

/** The findings with this code and target (and subject, when given). */
export function find(
  findings: readonly Finding[],
  code: string,
  target: string,
  subject?: string,
): Finding[] {
  return findings.filter(
    (finding) =>
      finding.code === code &&
      finding.target === target &&
      (subject === undefined || finding.subject === subject),
  );
}
