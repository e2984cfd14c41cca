/**
 * From configuration to conversations: host names and MX records resolved to addresses (through
 * the one DnsClient), and the PTR names of those addresses for the banner check.
 */
import { isIP } from 'node:net';
import { type DnsClient, type DnsOutcome, trimDot } from '#shared/dns/client.ts';
import { reverseLookupName } from '#shared/dns/names.ts';
import type { Finding } from '#shared/findings.ts';
import type { PortMode, ServerEntry } from './config.ts';
import type { ProbeTarget } from './conversation.ts';

const JOB = 'check-mail-servers';

/** The mode a bare port number implies. */
export function modeOfPort(port: number): PortMode {
  if (port === 25) return 'mx';
  if (port === 465) return 'smtps';
  return 'submission';
}

/** Conversations to hold, and findings for servers that could not even be resolved. */
export interface ResolvedTargets {
  targets: ProbeTarget[];
  findings: Finding[];
  /** Configured entries (hosts and domains). */
  servers: number;
}

/** Expands the configured servers into one target per address and port (deduplicated). */
export async function resolveTargets(
  servers: readonly ServerEntry[],
  dns: DnsClient,
  ipv6: boolean,
): Promise<ResolvedTargets> {
  const findings: Finding[] = [];
  const targets = new Map<string, ProbeTarget>();
  const add = (entry: ServerEntry, host: string, addresses: string[], domain?: string) => {
    for (const address of addresses) {
      for (const portEntry of entry.ports) {
        const port = typeof portEntry === 'number' ? portEntry : portEntry.port;
        const mode = typeof portEntry === 'number' ? modeOfPort(portEntry) : portEntry.mode;
        const key = `${address}|${port}`;
        if (targets.has(key)) continue;
        targets.set(key, {
          host,
          address,
          port,
          mode,
          relayTest: entry.relayTest,
          expectedHostname: entry.expectedHostname,
          domain,
        });
      }
    }
  };

  await Promise.all(
    servers.map(async (entry) => {
      if ('domain' in entry) {
        const hosts = await mxHosts(entry.domain, dns, findings);
        await Promise.all(
          hosts.map(async (host) =>
            add(entry, host, await addressesOf(host, dns, ipv6, findings, entry.domain), entry.domain),
          ),
        );
      } else {
        add(entry, entry.host, await addressesOf(entry.host, dns, ipv6, findings, undefined));
      }
    }),
  );
  const ordered = [...targets.values()].sort(
    (a, b) => a.host.localeCompare(b.host) || a.address.localeCompare(b.address) || a.port - b.port,
  );
  return { targets: ordered, findings, servers: servers.length };
}

async function mxHosts(domain: string, dns: DnsClient, findings: Finding[]): Promise<string[]> {
  const outcome = await dns.query(domain, 'MX');
  if (outcome.status === 'failed') {
    findings.push(lookupFailed(domain, 'MX', outcome.detail));
    return [];
  }
  const exchanges =
    outcome.status === 'answer'
      ? outcome.records
          .flatMap((record) => (record.type === 'MX' ? [record] : []))
          .sort((a, b) => a.preference - b.preference)
          .map((record) => (record.exchange === '.' ? '' : trimDot(record.exchange).toLowerCase()))
      : [];
  // RFC 7505 null MX: the domain says it accepts no mail, so there is nothing to probe.
  if (exchanges.length === 1 && exchanges[0] === '') {
    findings.push({
      job: JOB,
      code: 'smtp.ok',
      target: domain,
      severity: 'ok',
      message: `${domain} publishes a null MX (it accepts no mail), so no mail server was probed for it.`,
      data: { domain, nullMx: true },
    });
    return [];
  }
  if (exchanges.length === 0) {
    findings.push({
      job: JOB,
      code: 'mail.mx-missing',
      target: domain,
      severity: 'warning',
      message: `${domain} has no MX records, so there is no mail server to probe and mail to it may be lost.`,
      data: { domain, rcode: outcome.status },
    });
  }
  return [...new Set(exchanges.filter((exchange) => exchange !== ''))];
}

async function addressesOf(
  host: string,
  dns: DnsClient,
  ipv6: boolean,
  findings: Finding[],
  domain: string | undefined,
): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  const types = ipv6 ? (['A', 'AAAA'] as const) : (['A'] as const);
  const outcomes = await Promise.all(
    types.map(async (type) => ({ type, outcome: await dns.query(host, type) })),
  );
  const addresses: string[] = [];
  const failures: string[] = [];
  for (const { type, outcome } of outcomes) {
    if (outcome.status === 'failed') failures.push(outcome.detail);
    else if (outcome.status === 'answer') {
      for (const record of outcome.records) if (record.type === type) addresses.push(record.value);
    }
  }
  if (addresses.length > 0) return addresses;
  if (failures.length > 0) {
    findings.push(lookupFailed(host, types.join('/'), failures.join('; ')));
  } else {
    findings.push({
      job: JOB,
      code: 'smtp.unreachable',
      target: host,
      severity: 'critical',
      message: `${host} has no ${types.join(' or ')} record, so nobody can connect to it${domain ? ` although it is an MX of ${domain}` : ''}.`,
      data: { host, ...(domain ? { domain } : {}) },
    });
  }
  return [];
}

function lookupFailed(name: string, type: string, detail: string): Finding {
  return {
    job: JOB,
    code: 'dns.lookup-failed',
    target: name,
    severity: 'unknown',
    message: `Could not look up ${type} for ${name} (${detail}), so its mail servers were not probed.`,
    data: { name, type, detail },
  };
}

/** The PTR names of an address, or why there are none. */
export type PtrResult =
  | { status: 'names'; names: string[] }
  | { status: 'none'; rcode: 'nxdomain' | 'nodata' }
  | { status: 'failed'; detail: string };

/** Looks up the PTR names of `address` (lower-case, no trailing dot). */
export async function lookupPtr(address: string, dns: DnsClient): Promise<PtrResult> {
  const outcome: DnsOutcome = await dns.query(reverseLookupName(address), 'PTR');
  if (outcome.status === 'failed') return { status: 'failed', detail: outcome.detail };
  if (outcome.status !== 'answer') return { status: 'none', rcode: outcome.status };
  const names = outcome.records.flatMap((record) =>
    record.type === 'PTR' ? [trimDot(record.value).toLowerCase()] : [],
  );
  return names.length > 0 ? { status: 'names', names } : { status: 'none', rcode: 'nodata' };
}
