/**
 * `fromDns`: the addresses a mail domain's MX hosts resolve to. Kept minimal and local on purpose
 * (MX → A/AAAA through the same DnsClient); check-dns owns the full mail-DNS analysis.
 */
import type { DnsClient, DnsOutcome } from '#shared/dns/client.ts';

/** One MX host and what its addresses resolved to. */
export interface MailHost {
  host: string;
  preference: number;
  addresses: string[];
  /** A/AAAA lookups that failed (SERVFAIL, timeout ...): the host may have more addresses. */
  failures: string[];
}

/** What the MX lookup of a domain established. */
export type MailHostsOutcome =
  | { status: 'hosts'; hosts: MailHost[] }
  /** No MX (NXDOMAIN, NODATA) or a null MX (`0 .`): nothing to look up. */
  | { status: 'none'; detail: string }
  | { status: 'failed'; detail: string };

/** Resolves `domain`'s MX hosts and their A and AAAA addresses. */
export async function resolveMailHosts(domain: string, dns: DnsClient): Promise<MailHostsOutcome> {
  const mx = await dns.query(domain, 'MX');
  if (mx.status === 'failed') return { status: 'failed', detail: `MX lookup failed: ${mx.detail}` };
  if (mx.status === 'nxdomain') return { status: 'none', detail: `${domain} does not exist (NXDOMAIN)` };
  if (mx.status === 'nodata') return { status: 'none', detail: `${domain} has no MX records` };
  const exchanges = mx.records
    .flatMap((record) => (record.type === 'MX' ? [record] : []))
    .filter((record) => record.exchange !== '' && record.exchange !== '.')
    .sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange));
  if (exchanges.length === 0)
    return { status: 'none', detail: `${domain} has a null MX: it accepts no mail` };
  const hosts = await Promise.all(
    exchanges.map(async (record): Promise<MailHost> => {
      const [a, aaaa] = await Promise.all([
        dns.query(record.exchange, 'A'),
        dns.query(record.exchange, 'AAAA'),
      ]);
      return {
        host: record.exchange,
        preference: record.preference,
        addresses: [...addressesOf(a), ...addressesOf(aaaa)],
        failures: [a, aaaa].flatMap((outcome) => (outcome.status === 'failed' ? [outcome.detail] : [])),
      };
    }),
  );
  return { status: 'hosts', hosts };
}

function addressesOf(outcome: DnsOutcome): string[] {
  if (outcome.status !== 'answer') return [];
  return outcome.records.flatMap((record) =>
    record.type === 'A' || record.type === 'AAAA' ? [record.value] : [],
  );
}
