/**
 * Zone health, every run, through the same resolver as the real lookups (RFC 5782 §5 and §7): the
 * listed test point must be listed with a documented code, the other must not be. A zone that
 * fails is not used for anything else in the run, so a dead list that lists everything, a list
 * that refuses our resolver or a resolver that hides answers never produces a verdict.
 */
import type { DnsOutcome } from '#shared/dns/client.ts';
import { classifyDnsblAnswer, type DnsblVerdict } from './classify.ts';
import { type ActiveZone, dnsblQueryName } from './query-name.ts';
import { RFC5782_TEST_POINTS, type TestPoints } from './zones.ts';

/** What a zone lists, as far as a run is concerned. */
export type ZoneFamily = 'ipv4' | 'ipv6' | 'domain';

/** The health of one zone for one family. */
export type ZoneHealth =
  | { status: 'healthy'; testPoints: TestPoints }
  /** The list refused to answer (documented refusal code): `blocklist.query-refused`. */
  | { status: 'refused'; reason: string; testPoints: TestPoints; codes: string[] }
  /** The answers cannot be trusted: `blocklist.zone-broken`. */
  | { status: 'broken'; reason: string; testPoints: TestPoints; codes: string[] }
  /** The test points could not be looked up: `blocklist.lookup-failed`. */
  | { status: 'failed'; reason: string; testPoints: TestPoints };

/** The test points a zone is checked with for a family (its own, or RFC 5782's). */
export function testPointsFor(zone: ActiveZone, family: ZoneFamily): TestPoints {
  return zone.spec.testPoints[family] ?? RFC5782_TEST_POINTS[family];
}

/** Queries both test points of `zone` for `family` and judges the zone. */
export async function checkZoneHealth(
  zone: ActiveZone,
  family: ZoneFamily,
  lookup: (name: string) => Promise<DnsOutcome>,
): Promise<ZoneHealth> {
  const testPoints = testPointsFor(zone, family);
  const kind = family === 'domain' ? 'domain' : 'ip';
  const [listed, notListed] = await Promise.all([
    lookup(dnsblQueryName(zone, testPoints.listed, kind)).then((outcome) =>
      classifyDnsblAnswer(zone.spec, outcome),
    ),
    lookup(dnsblQueryName(zone, testPoints.notListed, kind)).then((outcome) =>
      classifyDnsblAnswer(zone.spec, outcome),
    ),
  ]);
  return judgeHealth(testPoints, listed, notListed);
}

/** Judges a zone from the verdicts on its two test points. */
export function judgeHealth(
  testPoints: TestPoints,
  listed: DnsblVerdict,
  notListed: DnsblVerdict,
): ZoneHealth {
  for (const verdict of [listed, notListed]) {
    if (verdict.kind === 'refused') {
      return { status: 'refused', reason: verdict.reason, testPoints, codes: verdict.codes };
    }
  }
  if (notListed.kind === 'listed') {
    return {
      status: 'broken',
      reason: `it lists its test point ${testPoints.notListed} (${notListed.codes.join(', ')}), which must never be listed: it answers "listed" for everything, like a dead or parked list`,
      testPoints,
      codes: notListed.codes,
    };
  }
  for (const [point, verdict] of [
    [testPoints.listed, listed],
    [testPoints.notListed, notListed],
  ] as const) {
    if (verdict.kind === 'error') {
      return {
        status: 'broken',
        reason: `for its test point ${point} it ${verdict.reason}`,
        testPoints,
        codes: verdict.codes,
      };
    }
  }
  if (listed.kind === 'clean') {
    return {
      status: 'broken',
      reason: `it does not list its test point ${testPoints.listed} (${listed.via === 'nxdomain' ? 'NXDOMAIN' : 'no A record'}), which RFC 5782 requires: the list is empty or gone, or the resolver hides its answers`,
      testPoints,
      codes: [],
    };
  }
  for (const [point, verdict] of [
    [testPoints.listed, listed],
    [testPoints.notListed, notListed],
  ] as const) {
    if (verdict.kind === 'failed') {
      return {
        status: 'failed',
        reason: `its test point ${point} could not be looked up: ${verdict.detail}`,
        testPoints,
      };
    }
  }
  return { status: 'healthy', testPoints };
}
