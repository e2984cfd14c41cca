/**
 * Asking every authoritative server of a zone directly (no recursion): a resolver's cache can hide
 * a stale or split delegation, where one NS still serves the old zone (without the MX) and the
 * other the new one, so half the world's senders lose mail. Each NS address is asked on
 * `authoritativePort` (53 in production; a high loopback port in tests and the sandbox).
 */
import { isIP } from 'node:net';
import { DnsClient, type DnsOutcome, type DnsRecordType } from '#shared/dns/client.ts';
import type { Lookup } from '#shared/dns/lookup.ts';
import type { Finding } from '#shared/findings.ts';
import { CODES, finding } from './codes.ts';
import type { ExpectableType, Expectation } from './config.ts';
import { checkExpectation, formatRecord } from './records.ts';

/** How to reach the zone's servers. */
export interface AuthoritativeOptions {
  port: number;
  /** Ask IPv6 NS addresses too (Lambda outside a dual-stack VPC cannot reach them). */
  ipv6: boolean;
  timeoutMs: number;
  retries: number;
}

/** One NS address, as messages name it. */
export interface NameserverAddress {
  host: string;
  address: string;
  label: string;
}

/** The zone a name belongs to and its NS hosts, found through the resolver. */
export type ZoneNameservers =
  | { kind: 'found'; zone: string; hosts: string[] }
  | { kind: 'failed'; name: string; detail: string };

/** Finds the closest enclosing zone of `domain` with NS records (the domain itself or a parent). */
export async function findZoneNameservers(domain: string, lookup: Lookup): Promise<ZoneNameservers> {
  const labels = domain.split('.');
  for (let index = 0; index < labels.length - 1; index += 1) {
    const name = labels.slice(index).join('.');
    const outcome = await lookup.query(name, 'NS');
    if (outcome.status === 'failed') return { kind: 'failed', name, detail: outcome.detail };
    // Only NS records owned by the name itself: a CNAME chain can end at another zone's apex.
    const hosts =
      outcome.status === 'answer'
        ? outcome.records.flatMap((record) =>
            record.type === 'NS' && record.name === name ? [record.value] : [],
          )
        : [];
    if (hosts.length > 0) return { kind: 'found', zone: name, hosts: [...new Set(hosts)].sort() };
  }
  return { kind: 'failed', name: domain, detail: `no NS records found for ${domain} or any parent` };
}

function describe(outcome: DnsOutcome): string {
  if (outcome.status === 'answer') return outcome.records.map(formatRecord).sort().join(', ');
  return outcome.status === 'failed' ? `failed (${outcome.reason})` : outcome.status.toUpperCase();
}

/** Counters of the direct queries, for the job's stats. */
export interface AuthoritativeStats {
  queries: number;
  servers: number;
}

/**
 * Asks every NS address of the zone for `types` at `domain` and compares each answer with the
 * expectations; types without an expectation (MX of a mail domain) must agree across servers.
 */
export async function checkAuthoritative(
  domain: string,
  expectations: Partial<Record<ExpectableType, Expectation | undefined>>,
  extraTypes: readonly DnsRecordType[],
  lookup: Lookup,
  options: AuthoritativeOptions,
  stats: AuthoritativeStats,
): Promise<{ findings: Finding[]; servers: NameserverAddress[] }> {
  const zone = await findZoneNameservers(domain, lookup);
  if (zone.kind === 'failed') {
    return {
      findings: [
        finding(
          domain,
          CODES.lookupFailed,
          'unknown',
          `Could not find the authoritative servers of ${domain}: ${zone.detail}.`,
          {
            subject: 'NS',
            data: { name: zone.name, detail: zone.detail },
          },
        ),
      ],
      servers: [],
    };
  }
  const findings: Finding[] = [];
  const servers: NameserverAddress[] = [];
  for (const host of zone.hosts) {
    const [a, aaaa] = await Promise.all([lookup.query(host, 'A'), lookup.query(host, 'AAAA')]);
    const families = options.ipv6 ? [a, aaaa] : [a];
    const addresses = families.flatMap((outcome) =>
      outcome.status === 'answer'
        ? outcome.records.flatMap((record) => ('value' in record ? [record.value] : []))
        : [],
    );
    if (addresses.length === 0) {
      const why =
        !options.ipv6 && aaaa.status === 'answer'
          ? 'has only IPv6 addresses and authoritativeIpv6 is off'
          : 'has no address the resolver can find';
      findings.push(
        finding(
          domain,
          CODES.lookupFailed,
          'unknown',
          `Nameserver ${host} of ${zone.zone} ${why}, so it was not asked.`,
          {
            subject: `NS ${host}`,
            data: { host, zone: zone.zone, A: a.status, AAAA: aaaa.status },
          },
        ),
      );
    }
    for (const address of addresses) servers.push({ host, address, label: `${host} (${address})` });
  }
  const pinned = Object.entries(expectations).flatMap(([type, value]) =>
    value ? [type as ExpectableType] : [],
  );
  const types = [...new Set<DnsRecordType>([...pinned, ...extraTypes])];
  const answers = await Promise.all(
    servers.map(async (server) => {
      const client = new DnsClient({
        servers: [
          isIP(server.address) === 6
            ? `[${server.address}]:${options.port}`
            : `${server.address}:${options.port}`,
        ],
        recursionDesired: false,
        timeoutMs: options.timeoutMs,
        retries: options.retries,
      });
      const byType = new Map<DnsRecordType, DnsOutcome>();
      for (const type of types) byType.set(type, await client.query(domain, type));
      stats.queries += client.stats.queries;
      return { server, byType };
    }),
  );
  stats.servers += servers.length;
  for (const { server, byType } of answers) {
    const lame = [...byType.values()].some(
      (outcome) => outcome.status !== 'failed' && !outcome.authoritative,
    );
    if (lame) {
      findings.push(
        finding(
          domain,
          CODES.lookupFailed,
          'unknown',
          `Nameserver ${server.label} answers for ${domain} without authority (lame delegation): it does not serve zone ${zone.zone}.`,
          {
            subject: `NS ${server.label}`,
            data: { host: server.host, address: server.address, zone: zone.zone },
          },
        ),
      );
      continue;
    }
    for (const [type, expectation] of Object.entries(expectations) as [
      ExpectableType,
      Expectation | undefined,
    ][]) {
      const outcome = byType.get(type);
      if (outcome && expectation)
        findings.push(...checkExpectation(domain, type, expectation, outcome, { label: server.label }));
    }
  }
  // Types nobody pinned must at least be the same everywhere.
  for (const type of types) {
    if ((pinned as DnsRecordType[]).includes(type)) continue;
    const seen = answers.map(({ server, byType }) => ({ server, outcome: byType.get(type) }));
    const distinct = new Set(seen.map(({ outcome }) => (outcome ? describe(outcome) : 'not asked')));
    const failed = seen.filter(({ outcome }) => outcome?.status === 'failed');
    if (failed.length > 0) {
      findings.push(
        finding(
          domain,
          CODES.lookupFailed,
          'unknown',
          `Could not ask ${failed.map(({ server }) => server.label).join(', ')} for the ${type} records of ${domain}.`,
          {
            subject: `${type} authoritative`,
            data: {
              type,
              servers: failed.map(({ server, outcome }) => ({
                server: server.label,
                answer: outcome ? describe(outcome) : '',
              })),
            },
          },
        ),
      );
      continue;
    }
    if (distinct.size > 1) {
      const empty = seen.some(({ outcome }) => outcome?.status !== 'answer');
      findings.push(
        finding(
          domain,
          empty ? CODES.recordMissing : CODES.recordMismatch,
          'critical',
          `The authoritative servers of ${zone.zone} disagree on the ${type} records of ${domain} (${seen.map(({ server, outcome }) => `${server.label}: ${outcome ? describe(outcome) : '?'}`).join('; ')}): a split or stale delegation.`,
          {
            subject: `${type} authoritative`,
            data: {
              type,
              zone: zone.zone,
              answers: seen.map(({ server, outcome }) => ({
                server: server.label,
                answer: outcome ? describe(outcome) : '',
              })),
            },
          },
        ),
      );
    }
  }
  return { findings, servers };
}
