/**
 * One blocklist run: check the health of every zone that has something to look up, then look each
 * target up on each healthy zone (with the TXT reason of every listing), all through one DnsClient
 * with bounded concurrency under the deadline.
 */
import { mapBounded } from '#shared/concurrency.ts';
import type { DnsClient } from '#shared/dns/client.ts';
import type { Deadline } from '#shared/job.ts';
import { classifyDnsblAnswer, type DnsblVerdict } from './classify.ts';
import { checkZoneHealth, type ZoneFamily, type ZoneHealth } from './health.ts';
import { type ActiveZone, dnsblQueryName } from './query-name.ts';
import type { Target } from './targets.ts';

/** The health of one zone for one family. */
export interface ZoneHealthResult {
  zone: ActiveZone;
  family: ZoneFamily;
  health: ZoneHealth;
}

/** One target looked up on one zone. */
export interface LookupResult {
  target: Target;
  zone: ActiveZone;
  verdict: DnsblVerdict;
  /** TXT reasons published with a listing. */
  reasons: string[];
}

/** Everything a run established. */
export interface CheckResult {
  health: ZoneHealthResult[];
  lookups: LookupResult[];
  /** Lookups the deadline kept from starting, as `target on zone`. */
  notStarted: string[];
  /** Health checks the deadline kept from starting. */
  healthNotStarted: string[];
}

/** Which family a target is looked up as on `zone`, or undefined when the zone does not list it. */
export function familyOn(zone: ActiveZone, target: Target): ZoneFamily | undefined {
  if (target.kind === 'domain') return zone.spec.kind === 'domain' ? 'domain' : undefined;
  if (zone.spec.kind !== 'ip') return undefined;
  if (target.family === 6) return zone.spec.ipv6 ? 'ipv6' : undefined;
  return 'ipv4';
}

/** Runs the health checks and the lookups. */
export async function checkBlocklists(options: {
  zones: readonly ActiveZone[];
  targets: readonly Target[];
  dns: DnsClient;
  concurrency: number;
  deadline: Deadline;
}): Promise<CheckResult> {
  const { zones, targets, dns, concurrency, deadline } = options;
  const lookupA = (name: string) => dns.query(name, 'A');

  // Only families that some target needs are health-checked: no DBL queries without domains.
  const needed: { zone: ActiveZone; family: ZoneFamily }[] = [];
  for (const zone of zones) {
    const families = new Set<ZoneFamily>();
    for (const target of targets) {
      const family = familyOn(zone, target);
      if (family) families.add(family);
    }
    for (const family of ['ipv4', 'ipv6', 'domain'] as const) {
      if (families.has(family)) needed.push({ zone, family });
    }
  }
  const healthRun = await mapBounded(
    needed,
    Math.max(1, Math.floor(concurrency / 2)),
    async ({ zone, family }): Promise<ZoneHealthResult> => ({
      zone,
      family,
      health: await checkZoneHealth(zone, family, lookupA),
    }),
    deadline,
  );
  const healthy = new Set(
    healthRun.results
      .filter((result) => result.health.status === 'healthy')
      .map((result) => healthKey(result.zone, result.family)),
  );

  const work: { target: Target; zone: ActiveZone }[] = [];
  for (const target of targets) {
    for (const zone of zones) {
      const family = familyOn(zone, target);
      if (family && healthy.has(healthKey(zone, family))) work.push({ target, zone });
    }
  }
  const lookupRun = await mapBounded(
    work,
    concurrency,
    async ({ target, zone }): Promise<LookupResult> => {
      const name = dnsblQueryName(zone, target.kind === 'ip' ? target.address : target.domain, target.kind);
      const verdict = classifyDnsblAnswer(zone.spec, await lookupA(name));
      const reasons = verdict.kind === 'listed' ? await txtReasons(dns, name) : [];
      return { target, zone, verdict, reasons };
    },
    deadline,
  );
  return {
    health: healthRun.results,
    lookups: lookupRun.results,
    notStarted: lookupRun.notStarted.map(
      ({ target, zone }) => `${targetName(target)} on ${zone.displayZone}`,
    ),
    healthNotStarted: healthRun.notStarted.map(({ zone, family }) => `${zone.displayZone} (${family})`),
  };
}

/** The address or domain of a target. */
export function targetName(target: Target): string {
  return target.kind === 'ip' ? target.address : target.domain;
}

function healthKey(zone: ActiveZone, family: ZoneFamily): string {
  return `${zone.spec.id}|${family}`;
}

async function txtReasons(dns: DnsClient, name: string): Promise<string[]> {
  // The reason is a courtesy: a failed TXT lookup does not change the listing.
  const outcome = await dns.query(name, 'TXT');
  if (outcome.status !== 'answer') return [];
  return [...new Set(outcome.records.flatMap((record) => (record.type === 'TXT' ? [record.value] : [])))];
}
