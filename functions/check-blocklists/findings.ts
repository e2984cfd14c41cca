/**
 * Findings from what a run established. Zone problems are reported once per zone (not once per
 * target); each target gets its listings grouped by what they mean, its lookup problems, or one
 * `blocklist.clean` finding when every usable zone answered "not listed".
 */
import type { Finding, Severity } from '#shared/findings.ts';
import { type CheckResult, familyOn, type LookupResult, targetName, type ZoneHealthResult } from './check.ts';
import type { Listing } from './classify.ts';
import type { ActiveZone } from './query-name.ts';
import type { Target } from './targets.ts';
import { type ListingCategory, PUBLIC_RESOLVERS } from './zones.ts';

/** The finding codes of check-blocklists. */
export const CODES = {
  clean: 'blocklist.clean',
  listed: 'blocklist.listed',
  policyListed: 'blocklist.policy-listed',
  neighbourhoodListed: 'blocklist.neighbourhood-listed',
  queryRefused: 'blocklist.query-refused',
  zoneBroken: 'blocklist.zone-broken',
  lookupFailed: 'blocklist.lookup-failed',
  dqsKeyMissing: 'blocklist.dqs-key-missing',
  notChecked: 'blocklist.not-checked',
  publicResolver: 'blocklist.public-resolver',
} as const;

type JoblessFinding = Omit<Finding, 'job'>;

/** Zone-level findings: one per zone and family that is not healthy. */
export function zoneFindings(health: readonly ZoneHealthResult[]): JoblessFinding[] {
  const findings: JoblessFinding[] = [];
  for (const { zone, family, health: state } of health) {
    if (state.status === 'healthy') continue;
    const name = zoneLabel(zone);
    const base = {
      target: zone.displayZone,
      subject: family,
      severity: 'unknown' as const,
      data: {
        zoneId: zone.spec.id,
        zone: zone.displayZone,
        family,
        testPoints: state.testPoints,
        reason: state.reason,
        ...('codes' in state ? { codes: state.codes } : {}),
      },
    };
    const what = family === 'domain' ? 'domains' : family === 'ipv6' ? 'IPv6 addresses' : 'IPv4 addresses';
    if (state.status === 'refused') {
      findings.push({
        ...base,
        code: CODES.queryRefused,
        message: `${name} refused our queries: it ${state.reason}; no ${what} were checked on it this run.`,
      });
    } else if (state.status === 'broken') {
      findings.push({
        ...base,
        code: CODES.zoneBroken,
        message: `${name} failed its health check: ${state.reason}; its answers for ${what} are ignored this run.`,
      });
    } else {
      findings.push({
        ...base,
        code: CODES.lookupFailed,
        message: `${name} could not be health-checked (${state.reason}); no ${what} were checked on it this run.`,
      });
    }
  }
  return findings;
}

/** Per-target findings. */
export function targetFindings(
  targets: readonly Target[],
  zones: readonly ActiveZone[],
  result: CheckResult,
): JoblessFinding[] {
  const byTarget = new Map<Target, LookupResult[]>();
  for (const lookup of result.lookups) {
    const list = byTarget.get(lookup.target) ?? [];
    list.push(lookup);
    byTarget.set(lookup.target, list);
  }
  const unusable = new Set(
    result.health
      .filter((entry) => entry.health.status !== 'healthy')
      .map((entry) => `${entry.zone.spec.id}|${entry.family}`),
  );
  const findings: JoblessFinding[] = [];
  for (const target of targets) {
    const lookups = byTarget.get(target) ?? [];
    const own: JoblessFinding[] = [];
    for (const lookup of lookups) own.push(...lookupFindings(target, lookup));
    const applicable = zones.filter((zone) => familyOn(zone, target) !== undefined);
    const skipped = applicable.filter((zone) => {
      const family = familyOn(zone, target);
      return family !== undefined && unusable.has(`${zone.spec.id}|${family}`);
    });
    if (applicable.length === 0) {
      const what =
        target.kind === 'domain' ? 'domain names' : target.family === 6 ? 'IPv6 addresses' : 'IPv4 addresses';
      findings.push({
        code: CODES.notChecked,
        target: targetName(target),
        severity: 'info',
        message: `${displayTarget(target)} was not checked: none of the configured blocklists lists ${what}.`,
        data: targetData(target),
      });
    } else if (lookups.length === 0 && skipped.length === applicable.length) {
      findings.push({
        code: CODES.lookupFailed,
        target: targetName(target),
        severity: 'unknown',
        message: `${displayTarget(target)} could not be checked on any blocklist this run: ${skipped.map((zone) => zone.spec.name).join(', ')} ${skipped.length === 1 ? 'was' : 'were'} not usable (see the zone findings).`,
        data: { ...targetData(target), zonesNotUsable: skipped.map((zone) => zone.displayZone) },
      });
    }
    if (own.length === 0 && lookups.length > 0) {
      const checked = lookups.map((lookup) => lookup.zone.displayZone);
      const looked = new Set(lookups.map((lookup) => lookup.zone.spec.id));
      const notReached = applicable.filter((zone) => !looked.has(zone.spec.id) && !skipped.includes(zone));
      const caveats = [
        ...(skipped.length > 0
          ? [
              `${skipped.length} more could not be used this run: ${skipped.map((zone) => zone.spec.name).join(', ')}`,
            ]
          : []),
        ...(notReached.length > 0
          ? [
              `${notReached.length} not reached before the deadline: ${notReached.map((zone) => zone.spec.name).join(', ')}`,
            ]
          : []),
      ];
      const caveat = caveats.length > 0 ? ` (${caveats.join('; ')})` : '';
      findings.push({
        code: CODES.clean,
        target: targetName(target),
        severity: 'ok',
        message: `${displayTarget(target)} is not listed on ${checked.length === 1 ? 'the one blocklist' : `any of the ${checked.length} blocklists`} checked${caveat}.`,
        data: {
          ...targetData(target),
          zonesChecked: checked,
          zonesNotUsable: skipped.map((zone) => zone.displayZone),
          zonesNotReached: notReached.map((zone) => zone.displayZone),
        },
      });
    }
    findings.push(...own);
  }
  return findings;
}

/** The info a Lambda run without a DQS key gives once: Spamhaus will refuse AWS's resolvers. */
export function dqsKeyMissingFinding(spamhausZones: readonly ActiveZone[]): JoblessFinding {
  return {
    code: CODES.dqsKeyMissing,
    target: 'spamhaus',
    severity: 'info',
    message: `Running in AWS Lambda without a Spamhaus DQS key: Spamhaus refuses queries from AWS resolvers, so ${spamhausZones.map((zone) => zone.spec.name).join(' and ')} will answer "refused"; set dqsKey to an SSM reference of a (free) DQS key.`,
    data: { zones: spamhausZones.map((zone) => zone.displayZone) },
  };
}

/** Warnings for configured resolvers that are big public ones which some selected zones refuse. */
export function publicResolverFindings(
  servers: readonly { host: string }[],
  zones: readonly ActiveZone[],
): JoblessFinding[] {
  const refusing = zones.filter((zone) => zone.spec.refusesPublicResolvers && !zone.dqs);
  if (refusing.length === 0) return [];
  const names = refusing.map((zone) => zone.spec.name).join(', ');
  const dqs = refusing.some((zone) => zone.spec.dqsZone) ? ' (or a Spamhaus DQS key)' : '';
  return servers.flatMap(({ host }) => {
    const operator = PUBLIC_RESOLVERS[host.toLowerCase()];
    if (!operator) return [];
    return [
      {
        code: CODES.publicResolver,
        target: host,
        severity: 'warning' as const,
        message: `The blocklist resolver ${host} is ${operator}, a public resolver that ${names} refuse or answer with a silent "not listed": use a resolver of your own${dqs} for blocklists.`,
        data: { resolver: host, operator, zones: refusing.map((zone) => zone.displayZone) },
      },
    ];
  });
}

function lookupFindings(target: Target, lookup: LookupResult): JoblessFinding[] {
  const { zone, verdict } = lookup;
  const shown = displayTarget(target);
  const subject = zone.displayZone;
  const data = { ...targetData(target), zoneId: zone.spec.id, zone: zone.displayZone };
  switch (verdict.kind) {
    case 'clean':
      return [];
    case 'failed':
      return [
        {
          code: CODES.lookupFailed,
          target: targetName(target),
          subject,
          severity: 'unknown',
          message: `Could not look ${shown} up on ${zoneLabel(zone)} (${verdict.reason}, after retries); whether it is listed there is unknown.`,
          data: { ...data, reason: verdict.reason, detail: verdict.detail },
        },
      ];
    case 'refused':
      return [
        {
          code: CODES.queryRefused,
          target: targetName(target),
          subject,
          severity: 'unknown',
          message: `${zoneLabel(zone)} refused the lookup of ${shown}: it ${verdict.reason}; whether it is listed there is unknown.`,
          data: { ...data, codes: verdict.codes, reason: verdict.reason },
        },
      ];
    case 'error':
      return [
        {
          code: CODES.zoneBroken,
          target: targetName(target),
          subject,
          severity: 'unknown',
          message: `${zoneLabel(zone)} gave an answer for ${shown} that is not a listing: it ${verdict.reason}; whether it is listed there is unknown.`,
          data: { ...data, codes: verdict.codes, reason: verdict.reason },
        },
      ];
    case 'listed':
      return groupByCategory(verdict.listings).map(([category, listings]) =>
        listingFinding(target, lookup, category, listings, data),
      );
  }
}

function listingFinding(
  target: Target,
  lookup: LookupResult,
  category: ListingCategory,
  listings: Listing[],
  base: Record<string, unknown>,
): JoblessFinding {
  const { zone } = lookup;
  const shown = displayTarget(target);
  const meanings = listings.map((listing) => `${listing.meaning} (${listing.code})`).join('; ');
  const reason = lookup.reasons.length > 0 ? ` Reason given: "${lookup.reasons.join(' / ')}".` : '';
  const data = {
    ...base,
    category,
    codes: listings.map((listing) => listing.code),
    meanings: listings.map((listing) => listing.meaning),
    reasons: lookup.reasons,
    delistUrl: zone.spec.delistUrl,
  };
  if (category === 'policy') {
    const sends = target.kind === 'ip' && target.sendsMail;
    const severity: Severity = sends ? 'critical' : 'warning';
    const consequence = sends
      ? `receivers that use it reject mail this address sends directly to them: send through your provider's relay, or if this is a legitimate mail server with matching PTR, ${removal(zone)}`
      : `this matters only if it sends mail directly to other mail servers; if it ever does, ${removal(zone)}`;
    return {
      code: CODES.policyListed,
      target: targetName(target),
      subject: zone.displayZone,
      severity,
      message: `${shown} is in a policy list on ${zoneLabel(zone)}: ${meanings}; ${consequence}.${reason}`,
      data: { ...data, sendsMail: sends },
    };
  }
  if (category === 'neighbourhood') {
    return {
      code: CODES.neighbourhoodListed,
      target: targetName(target),
      subject: zone.displayZone,
      severity: 'warning',
      message: `${shown} is listed on ${zoneLabel(zone)} because of its neighbours, not itself: ${meanings}. You cannot delist it; it expires when the neighbourhood stops sending spam, and receivers that use this list reject your mail meanwhile (use a relay or another network if it persists).${reason}`,
      data,
    };
  }
  return {
    code: CODES.listed,
    target: targetName(target),
    subject: zone.displayZone,
    severity: 'critical',
    message: `${shown} is listed on ${zoneLabel(zone)}: ${meanings}. ${zone.spec.ownerCanDelist ? `Fix the cause, then ${removal(zone)}` : 'Fix the cause; this list removes entries by itself when the abuse stops, not on request'}.${reason}`,
    data,
  };
}

function removal(zone: ActiveZone): string {
  return zone.spec.delistUrl
    ? `request removal at ${zone.spec.delistUrl}`
    : `ask the operator of ${zone.spec.zone} to remove it`;
}

function groupByCategory(listings: readonly Listing[]): [ListingCategory, Listing[]][] {
  const groups = new Map<ListingCategory, Listing[]>();
  for (const listing of listings) {
    const group = groups.get(listing.category) ?? [];
    group.push(listing);
    groups.set(listing.category, group);
  }
  return [...groups.entries()];
}

function zoneLabel(zone: ActiveZone): string {
  return zone.spec.name === zone.displayZone ? zone.spec.name : `${zone.spec.name} (${zone.displayZone})`;
}

/** A target as shown: `192.0.2.25 (mail1)`, `192.0.2.26 (MX mx.example.com of example.com)`. */
export function displayTarget(target: Target): string {
  const note = target.kind === 'ip' ? (target.label ?? target.sources[0]) : undefined;
  return note ? `${targetName(target)} (${note})` : targetName(target);
}

function targetData(target: Target): Record<string, unknown> {
  if (target.kind === 'domain') return { domain: target.domain, sources: target.sources };
  return {
    address: target.address,
    family: target.family === 6 ? 'ipv6' : 'ipv4',
    sendsMail: target.sendsMail,
    sources: target.sources,
  };
}
