/**
 * Listings survive runs that cannot see them. When a zone is refused, broken or unreachable, or one
 * lookup fails, the run knows nothing new about that listing; dropping it would let the alert state
 * announce "resolved" — a false clean. So each zone's last confirmed listings are kept in the state
 * store and re-reported, marked as not re-checked, until a working lookup says otherwise.
 */
import type { Finding } from '#shared/findings.ts';
import type { StateStore } from '#shared/state/store.ts';
import type { LookupResult } from './check.ts';
import { targetName } from './check.ts';
import type { ActiveZone } from './query-name.ts';

/** State partition of the last confirmed listings, one item per zone. */
export const LISTINGS_PARTITION = 'listings#check-blocklists';

/** Kept listings expire after this long without a working lookup. */
const KEEP_SECONDS = 30 * 24 * 3600;

type JoblessFinding = Omit<Finding, 'job'>;

interface StoredListing {
  finding: JoblessFinding;
  confirmedAt: string;
}

const LISTING_CODES = new Set([
  'blocklist.listed',
  'blocklist.policy-listed',
  'blocklist.neighbourhood-listed',
]);

/**
 * Returns the listings to re-report for targets this run could not look up on a zone, and stores
 * each zone's current listings. `findings` are this run's per-target findings (already redacted).
 */
export async function carryOverListings(options: {
  state: StateStore;
  now: Date;
  zones: readonly ActiveZone[];
  /** Target names in this run; kept listings of targets no longer configured are dropped. */
  targets: readonly string[];
  lookups: readonly LookupResult[];
  findings: readonly JoblessFinding[];
}): Promise<JoblessFinding[]> {
  const { state, now, zones, lookups, findings } = options;
  const current = new Set(options.targets);
  const carried: JoblessFinding[] = [];
  for (const zone of zones) {
    // A target's status on this zone is known only when the lookup gave a verdict.
    const known = new Set(
      lookups
        .filter(
          (lookup) =>
            lookup.zone.spec.id === zone.spec.id &&
            (lookup.verdict.kind === 'clean' || lookup.verdict.kind === 'listed'),
        )
        .map((lookup) => targetName(lookup.target)),
    );
    const stored = (await state.get(LISTINGS_PARTITION, zone.spec.id)) as { listings?: unknown } | undefined;
    const previous = Array.isArray(stored?.listings) ? (stored.listings as StoredListing[]) : [];
    const kept = previous.filter(
      (entry) => current.has(entry.finding.target) && !known.has(entry.finding.target),
    );
    const confirmed: StoredListing[] = findings
      .filter(
        (finding) =>
          LISTING_CODES.has(finding.code) &&
          (finding.data as { zoneId?: unknown } | undefined)?.zoneId === zone.spec.id,
      )
      .map((finding) => ({ finding, confirmedAt: now.toISOString() }));
    for (const entry of kept) carried.push(markCarried(entry, zone));
    const listings = [...confirmed, ...kept];
    if (listings.length > 0 || previous.length > 0) {
      await state.put(LISTINGS_PARTITION, zone.spec.id, { listings }, { ttlSeconds: KEEP_SECONDS });
    }
  }
  return carried;
}

function markCarried(entry: StoredListing, zone: ActiveZone): JoblessFinding {
  const when = `${entry.confirmedAt.slice(0, 16).replace('T', ' ')} UTC`;
  return {
    ...entry.finding,
    message: `Not re-checked this run (${zone.spec.name} could not be looked up), last confirmed ${when}: ${entry.finding.message}`,
    data: { ...entry.finding.data, carriedOver: true, lastConfirmedAt: entry.confirmedAt },
  };
}
