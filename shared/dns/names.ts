/** DNS names derived from addresses: reverse-lookup names and DNSBL query prefixes. */
import { isIP } from 'node:net';

/** The 32 nibbles of an IPv6 address, most significant first. */
export function ipv6Nibbles(address: string): string[] {
  const [head = '', tail] = address.toLowerCase().split('::');
  const expand = (part: string) => (part === '' ? [] : part.split(':'));
  let groups = [...expand(head), ...(tail === undefined ? [] : expand(tail))];
  // An embedded IPv4 tail (::ffff:127.0.0.2) becomes two groups.
  const last = groups.at(-1);
  if (last?.includes('.')) {
    const octets = last.split('.').map(Number);
    groups = [
      ...groups.slice(0, -1),
      (((octets[0] ?? 0) << 8) | (octets[1] ?? 0)).toString(16),
      (((octets[2] ?? 0) << 8) | (octets[3] ?? 0)).toString(16),
    ];
  }
  if (tail !== undefined) {
    const headGroups = expand(head).length;
    const missing = 8 - groups.length;
    groups = [
      ...groups.slice(0, headGroups),
      ...Array<string>(missing).fill('0'),
      ...groups.slice(headGroups),
    ];
  }
  return groups.flatMap((group) => group.padStart(4, '0').split(''));
}

/**
 * The label sequence a reverse lookup or a DNSBL query uses for an address: reversed octets for
 * IPv4 (`2.0.0.127`), 32 reversed nibbles for IPv6 (RFC 5782 §2.4). Throws for non-addresses.
 */
export function reversedAddress(address: string): string {
  const family = isIP(address);
  if (family === 4) return address.split('.').reverse().join('.');
  if (family === 6) return ipv6Nibbles(address).reverse().join('.');
  throw new TypeError(`"${address}" is not an IP address`);
}

/** The PTR query name for an address (`…in-addr.arpa` or `…ip6.arpa`). */
export function reverseLookupName(address: string): string {
  return `${reversedAddress(address)}.${isIP(address) === 4 ? 'in-addr.arpa' : 'ip6.arpa'}`;
}
