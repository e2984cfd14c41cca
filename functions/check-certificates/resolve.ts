/**
 * Which addresses to probe for an endpoint: the configured ones, the IP literal itself, or every
 * A and AAAA record of the host (round-robin DNS and load balancers hide a bad node otherwise).
 */
import { isIP } from 'node:net';
import type { DnsClient, DnsOutcome } from '#shared/dns/client.ts';

/** Address families the job may probe. */
export type AddressFamily = 'ipv4' | 'ipv6';

/** Resolution of one endpoint. */
export type Resolution =
  | {
      status: 'ok';
      addresses: string[];
      /** A family whose lookup failed while the other answered: reported as unknown, probed no further. */
      partialFailures: { type: 'A' | 'AAAA'; detail: string }[];
      source: 'configured' | 'literal' | 'dns';
    }
  /** The name does not exist, or has no A/AAAA record: a definite answer. */
  | { status: 'no-address'; detail: string }
  /** DNS could not tell (timeout, SERVFAIL, REFUSED). */
  | { status: 'failed'; detail: string };

function addressesOf(outcome: DnsOutcome, type: 'A' | 'AAAA'): string[] {
  if (outcome.status !== 'answer') return [];
  // A recursive answer may carry the CNAME chain too; only the addresses matter here.
  return outcome.records.flatMap((record) => (record.type === type ? [record.value] : []));
}

function describeOutcome(outcome: DnsOutcome): string {
  switch (outcome.status) {
    case 'failed':
      return `${outcome.reason} (${outcome.detail})`;
    case 'nxdomain':
      return 'NXDOMAIN';
    case 'nodata':
      return 'no record';
    case 'answer':
      return 'answer';
  }
}

/** Resolves an endpoint's addresses (configured > literal > DNS), in the families asked for. */
export async function resolveAddresses(
  dns: DnsClient,
  host: string,
  configured: readonly string[] | undefined,
  families: readonly AddressFamily[],
): Promise<Resolution> {
  if (configured && configured.length > 0)
    return { status: 'ok', addresses: [...configured], partialFailures: [], source: 'configured' };
  if (isIP(host) !== 0) return { status: 'ok', addresses: [host], partialFailures: [], source: 'literal' };
  const types = families.map((family) => (family === 'ipv4' ? 'A' : 'AAAA') as 'A' | 'AAAA');
  const outcomes = await Promise.all(
    types.map(async (type) => ({ type, outcome: await dns.query(host, type) })),
  );
  const addresses = outcomes.flatMap(({ type, outcome }) => addressesOf(outcome, type));
  const failures = outcomes.filter(({ outcome }) => outcome.status === 'failed');
  if (addresses.length > 0) {
    return {
      status: 'ok',
      addresses: [...new Set(addresses)],
      partialFailures: failures.map(({ type, outcome }) => ({ type, detail: describeOutcome(outcome) })),
      source: 'dns',
    };
  }
  const summary = outcomes.map(({ type, outcome }) => `${type}: ${describeOutcome(outcome)}`).join(', ');
  if (failures.length > 0) return { status: 'failed', detail: summary };
  return { status: 'no-address', detail: summary };
}
