/**
 * A domain's inbound mail hosts: its MX set (with RFC 7505 null MX and the RFC 5321 implicit-MX
 * fallback told apart) and each host's addresses: check-dns judges them, check-blocklists looks
 * the addresses up.
 */
import type { DnsClient, DnsFailureReason, DnsOutcome } from './client.ts';
import { Lookup } from './lookup.ts';

/** One MX host and what its address lookups found. */
export interface MailHost {
  host: string;
  preference: number;
  /** A and AAAA addresses; empty when the host has none (or the lookups failed). */
  addresses: string[];
  /** Address lookups that failed (SERVFAIL, timeout ...): then `addresses` may be incomplete. */
  failures: { type: 'A' | 'AAAA'; reason: DnsFailureReason; detail: string }[];
}

/** What the MX lookup of a domain established. */
export type MailHosts =
  | { kind: 'mx'; hosts: MailHost[]; ttl: number }
  /** RFC 7505 `0 .`: the domain declares that it accepts no mail. */
  | { kind: 'null-mx'; ttl: number }
  /** NXDOMAIN or NODATA: senders fall back to the domain's own A/AAAA (RFC 5321 §5.1). */
  | { kind: 'none'; answer: 'nxdomain' | 'nodata' }
  | { kind: 'failed'; reason: DnsFailureReason; detail: string };

function isNullExchange(exchange: string): boolean {
  return exchange === '' || exchange === '.';
}

function addressesOf(outcome: DnsOutcome): string[] {
  return outcome.status === 'answer'
    ? outcome.records.flatMap((record) =>
        record.type === 'A' || record.type === 'AAAA' ? [record.value] : [],
      )
    : [];
}

/** The MX hosts of `domain` with their addresses, most preferred first. Never throws for DNS failures. */
export async function findMailHosts(domain: string, dns: DnsClient | Lookup): Promise<MailHosts> {
  const lookup = dns instanceof Lookup ? dns : new Lookup(dns);
  const mx = await lookup.query(domain, 'MX');
  if (mx.status === 'failed') return { kind: 'failed', reason: mx.reason, detail: mx.detail };
  if (mx.status !== 'answer') return { kind: 'none', answer: mx.status };
  const ttl = Math.min(...mx.records.map((record) => record.ttl));
  const records = mx.records.flatMap((record) => (record.type === 'MX' ? [record] : []));
  if (records.length === 1 && records[0] && isNullExchange(records[0].exchange))
    return { kind: 'null-mx', ttl };
  const hosts = await Promise.all(
    records
      .filter((record) => !isNullExchange(record.exchange))
      .sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange))
      .map(async (record): Promise<MailHost> => {
        const [a, aaaa] = await Promise.all([
          lookup.query(record.exchange, 'A'),
          lookup.query(record.exchange, 'AAAA'),
        ]);
        const failures: MailHost['failures'] = [];
        if (a.status === 'failed') failures.push({ type: 'A', reason: a.reason, detail: a.detail });
        if (aaaa.status === 'failed')
          failures.push({ type: 'AAAA', reason: aaaa.reason, detail: aaaa.detail });
        return {
          host: record.exchange,
          preference: record.preference,
          addresses: [...addressesOf(a), ...addressesOf(aaaa)],
          failures,
        };
      }),
  );
  return { kind: 'mx', hosts, ttl };
}

/** Just the addresses of a domain's MX hosts (empty for none, null MX or a failed lookup). */
export async function mailHostAddresses(domain: string, dns: DnsClient | Lookup): Promise<string[]> {
  const found = await findMailHosts(domain, dns);
  if (found.kind !== 'mx') return [];
  return [...new Set(found.hosts.flatMap((host) => host.addresses))];
}
