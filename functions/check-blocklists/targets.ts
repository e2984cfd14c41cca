/**
 * The addresses and domains a run looks up: configured ones plus those found through `fromDns`
 * (MX hosts' A/AAAA addresses, found with the same `findMailHosts` as check-dns, and the mail
 * senders the `dns` section declares for that domain).
 */
import { isIP } from 'node:net';
import * as z from 'zod';
import { mapBounded } from '#shared/concurrency.ts';
import type { DnsClient } from '#shared/dns/client.ts';
import { findMailHosts } from '#shared/dns/mail-hosts.ts';
import type { Finding } from '#shared/findings.ts';
import type { Deadline } from '#shared/job.ts';
import type { BlocklistsSection } from './config.ts';

/** An address to look up on the ip zones. */
export interface AddressTarget {
  kind: 'ip';
  /** Normalised address (IPv4-mapped IPv6 becomes IPv4, IPv6 lower-case). */
  address: string;
  family: 4 | 6;
  sendsMail: boolean;
  label?: string;
  /** Where it came from when not configured directly: `MX mail.example.com of example.com`. */
  sources: string[];
}

/** A domain to look up on the domain zones. */
export interface DomainTarget {
  kind: 'domain';
  domain: string;
  sources: string[];
}

/** One thing a run looks up. */
export type Target = AddressTarget | DomainTarget;

/** The targets and what went wrong while finding them. */
export interface CollectedTargets {
  targets: Target[];
  findings: Omit<Finding, 'job'>[];
  /** fromDns domains the deadline kept us from resolving. */
  notReached: string[];
}

/** `::ffff:192.0.2.1` → `192.0.2.1` (so it is looked up where IPv4 is listed); IPv6 lower-cased. */
export function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] && isIP(mapped[1]) === 4) return mapped[1];
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hexMapped?.[1] && hexMapped[2]) {
    const high = Number.parseInt(hexMapped[1], 16);
    const low = Number.parseInt(hexMapped[2], 16);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return address.toLowerCase();
}

/** A mail sender the `dns` section declares: the IP mail leaves from and the name it announces. */
export interface DeclaredSender {
  ip: string;
  hostname?: string | undefined;
}

// Only the part of the dns section this job reads; the dns job validates the whole of it.
const dnsSendersShape = z.object({
  domains: z
    .array(
      z.object({
        name: z.string(),
        mail: z
          .object({
            senders: z.array(z.object({ ip: z.string(), hostname: z.string().optional() })).default([]),
          })
          .optional(),
      }),
    )
    .default([]),
});

/** Senders per domain (lower case, no trailing dot) from the `dns` section; empty when it has none. */
export function dnsSectionSenders(
  sections: Readonly<Record<string, unknown>>,
): Map<string, DeclaredSender[]> {
  const senders = new Map<string, DeclaredSender[]>();
  const parsed = dnsSendersShape.safeParse(sections['dns'] ?? {});
  if (!parsed.success) return senders;
  for (const domain of parsed.data.domains) {
    const declared = (domain.mail?.senders ?? []).filter((sender) => isIP(sender.ip) !== 0);
    if (declared.length > 0) senders.set(domain.name.toLowerCase().replace(/\.$/, ''), declared);
  }
  return senders;
}

/** Builds the target list; fromDns lookups run with bounded concurrency under the deadline. */
export async function collectTargets(
  section: BlocklistsSection,
  dns: DnsClient,
  deadline: Deadline,
  declaredSenders: ReadonlyMap<string, DeclaredSender[]> = new Map(),
): Promise<CollectedTargets> {
  const addresses = new Map<string, AddressTarget>();
  const domains = new Map<string, DomainTarget>();
  const findings: Omit<Finding, 'job'>[] = [];

  const addAddress = (raw: string, sendsMail: boolean, source?: string, label?: string) => {
    const address = normaliseAddress(raw);
    const existing = addresses.get(address);
    if (existing) {
      existing.sendsMail ||= sendsMail;
      if (source) existing.sources.push(source);
      if (label && !existing.label) existing.label = label;
      return;
    }
    const target: AddressTarget = {
      kind: 'ip',
      address,
      family: isIP(address) === 6 ? 6 : 4,
      sendsMail,
      sources: source ? [source] : [],
    };
    if (label) target.label = label;
    addresses.set(address, target);
  };
  const addDomain = (raw: string, source?: string) => {
    const domain = raw.toLowerCase().replace(/\.$/, '');
    const existing = domains.get(domain);
    if (existing) {
      if (source) existing.sources.push(source);
      return;
    }
    domains.set(domain, { kind: 'domain', domain, sources: source ? [source] : [] });
  };

  for (const entry of section.addresses) {
    if (typeof entry === 'string') addAddress(entry, true);
    else addAddress(entry.address, entry.sendsMail, undefined, entry.label);
  }
  for (const domain of section.domains) addDomain(domain);

  const fromDns = section.fromDns.map((entry) =>
    typeof entry === 'string' ? { domain: entry, sendsMail: true, checkDomain: true } : entry,
  );
  const { results, notStarted } = await mapBounded(
    fromDns,
    Math.min(section.concurrency, 10),
    async (entry) => ({ entry, outcome: await findMailHosts(entry.domain, dns) }),
    deadline,
  );
  for (const { entry, outcome } of results) {
    const domain = entry.domain.toLowerCase().replace(/\.$/, '');
    if (entry.checkDomain) addDomain(domain, `mail domain ${domain}`);
    // Outbound mail often leaves from hosts that are not MX (a web server, a relay): the dns
    // section names them, and they are the addresses receivers judge.
    for (const sender of declaredSenders.get(domain) ?? []) {
      addAddress(sender.ip, true, `mail sender of ${domain} (dns section)`, sender.hostname);
    }
    if (outcome.kind === 'failed') {
      findings.push({
        code: 'dns.lookup-failed',
        target: domain,
        severity: 'unknown',
        message: `Could not look up the MX hosts of ${domain} (${outcome.reason}), so their addresses were not checked on blocklists.`,
        data: { reason: outcome.reason, detail: outcome.detail },
      });
      continue;
    }
    if (outcome.kind !== 'mx') {
      const why =
        outcome.kind === 'null-mx'
          ? `${domain} has a null MX (it accepts no mail)`
          : `${domain} has no MX records (${outcome.answer === 'nxdomain' ? 'NXDOMAIN' : 'NODATA'})`;
      findings.push({
        code: 'mail.mx-missing',
        target: domain,
        severity: 'info',
        message: `${why}, so no MX addresses were taken from it for the blocklist check.`,
        data: { mx: outcome.kind === 'null-mx' ? 'null' : outcome.answer },
      });
      continue;
    }
    for (const host of outcome.hosts) {
      for (const address of host.addresses) {
        addAddress(address, entry.sendsMail, `MX ${host.host} of ${domain}`);
      }
      if (host.failures.length > 0) {
        findings.push({
          code: 'dns.lookup-failed',
          target: domain,
          subject: host.host,
          severity: 'unknown',
          message: `Could not resolve all addresses of MX host ${host.host} of ${domain}; those were not checked on blocklists.`,
          data: { failures: host.failures.map((failure) => failure.detail), addressesFound: host.addresses },
        });
      } else if (host.addresses.length === 0) {
        findings.push({
          code: 'dns.lookup-failed',
          target: domain,
          subject: host.host,
          severity: 'unknown',
          message: `MX host ${host.host} of ${domain} has no A or AAAA records, so it could not be checked on blocklists.`,
        });
      }
    }
  }
  return {
    targets: [...addresses.values(), ...domains.values()],
    findings,
    notReached: notStarted.map((entry) => entry.domain),
  };
}
