/** check-blocklists: DNSBL listings of mail IPs and domains, with correct return-code semantics. */
import { DnsClient } from '#shared/dns/client.ts';
import type { Finding } from '#shared/findings.ts';
import type { JobContext, JobDefinition, JobLogger, JobOutcome } from '#shared/job.ts';
import { carryOverListings } from './carry-over.ts';
import { checkBlocklists, targetName } from './check.ts';
import { type BlocklistsSection, blocklistsSchema, type CustomZoneConfig } from './config.ts';
import {
  CODES,
  dqsKeyMissingFinding,
  publicResolverFindings,
  targetFindings,
  zoneFindings,
} from './findings.ts';
import { type ActiveZone, activateZone, createRedactor, redactDeep } from './query-name.ts';
import { collectTargets, dnsSectionSenders } from './targets.ts';
import { BUILTIN_ZONES, DEFAULT_ZONE_IDS, RFC5782_TEST_POINTS, type ZoneSpec } from './zones.ts';

const JOB = 'check-blocklists';

/** The zones a section selects: built-in ones (default set unless named) plus custom ones. */
export function selectZones(section: BlocklistsSection): ZoneSpec[] {
  const ids = section.zones ?? [...DEFAULT_ZONE_IDS, ...(section.registeredResolver ? ['barracuda'] : [])];
  const builtin = [...new Set(ids)].flatMap((id) => {
    const spec = BUILTIN_ZONES[id];
    return spec ? [spec] : [];
  });
  return [...builtin, ...section.customZones.map(customZoneSpec)];
}

/** A custom zone from configuration as a ZoneSpec. */
export function customZoneSpec(zone: CustomZoneConfig): ZoneSpec {
  const points = zone.testPoints;
  return {
    id: zone.id,
    name: zone.name ?? zone.zone,
    zone: zone.zone.toLowerCase().replace(/\.$/, ''),
    kind: zone.kind,
    ipv6: zone.kind === 'ip' && zone.ipv6,
    codes: zone.codes,
    errorCodes: zone.errorCodes,
    testPoints:
      zone.kind === 'domain'
        ? { domain: points ?? RFC5782_TEST_POINTS.domain }
        : { ipv4: points ?? RFC5782_TEST_POINTS.ipv4, ipv6: RFC5782_TEST_POINTS.ipv6 },
    ...(zone.delistUrl === undefined ? {} : { delistUrl: zone.delistUrl }),
    ownerCanDelist: zone.ownerCanDelist,
    refusesPublicResolvers: zone.refusesPublicResolvers,
    requiresRegisteredResolver: false,
  };
}

/** Reads the DQS key and checks it can only ever be one DNS label (it goes into query names). */
async function resolveDqsKey(context: JobContext<BlocklistsSection>): Promise<string | undefined> {
  const reference = context.config.dqsKey;
  if (reference === undefined) return undefined;
  const key = (await context.resolveSecret(reference)).trim();
  if (!/^[A-Za-z0-9]{1,63}$/.test(key)) {
    // Never echo the value: it is a secret even when malformed.
    throw new Error(`the Spamhaus DQS key in ${reference} is not a single alphanumeric DNS label`);
  }
  return key;
}

function redactingLogger(logger: JobLogger, redact: (text: string) => string): JobLogger {
  const wrap =
    (level: keyof JobLogger) =>
    (message: string, extra?: Record<string, unknown>): void => {
      if (extra === undefined) logger[level](redact(message));
      else logger[level](redact(message), redactDeep(extra, redact));
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

async function run(context: JobContext<BlocklistsSection>): Promise<JobOutcome> {
  const section = context.config;
  const dqsKey = await resolveDqsKey(context);
  const redact = createRedactor(dqsKey === undefined ? [] : [dqsKey]);
  const logger = redactingLogger(context.logger, redact);
  try {
    const outcome = await runWithKey(context, section, dqsKey, logger, redact);
    return redactDeep(outcome, redact);
  } catch (error) {
    // A crash still must not carry the key into job.failed.
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(redact(message), {
      cause: error instanceof Error ? redactError(error, redact) : undefined,
    });
  }
}

function redactError(error: Error, redact: (text: string) => string): Error {
  const copy = new Error(redact(error.message));
  copy.name = error.name;
  if (error.stack) copy.stack = redact(error.stack);
  return copy;
}

async function runWithKey(
  context: JobContext<BlocklistsSection>,
  section: BlocklistsSection,
  dqsKey: string | undefined,
  logger: JobLogger,
  redact: (text: string) => string,
): Promise<JobOutcome> {
  const servers = section.resolver ?? context.global.resolver;
  const dns = new DnsClient({ servers, timeoutMs: section.timeoutMs, retries: section.retries });
  const zones: ActiveZone[] = selectZones(section).map((spec) => activateZone(spec, dqsKey));
  const findings: Omit<Finding, 'job'>[] = [];

  const spamhaus = zones.filter((zone) => zone.spec.dqsZone !== undefined && !zone.dqs);
  if (context.runtime.inLambda && dqsKey === undefined && spamhaus.length > 0) {
    findings.push(dqsKeyMissingFinding(spamhaus));
  }

  findings.push(...publicResolverFindings(dns.servers, zones));

  const collected = await collectTargets(section, dns, context.deadline, dnsSectionSenders(context.sections));
  findings.push(...collected.findings);
  logger.debug('blocklist targets collected', {
    targets: collected.targets.length,
    zones: zones.map((zone) => zone.displayZone),
  });

  const result = await checkBlocklists({
    zones,
    targets: collected.targets,
    dns,
    concurrency: section.concurrency,
    deadline: context.deadline,
  });
  // Redacted before they are stored as the zones' last confirmed listings.
  const perTarget = redactDeep(targetFindings(collected.targets, zones, result), redact);
  const carried = await carryOverListings({
    state: context.state,
    now: context.now(),
    zones,
    targets: collected.targets.map(targetName),
    lookups: result.lookups,
    findings: perTarget,
  });
  // A target with a listing kept from an earlier run is not "clean" just because other zones are.
  const stillListed = new Set(carried.map((finding) => finding.target));
  findings.push(
    ...zoneFindings(result.health),
    ...perTarget.filter((finding) => finding.code !== CODES.clean || !stillListed.has(finding.target)),
    ...carried,
  );

  const unhealthy = result.health.filter((entry) => entry.health.status !== 'healthy');
  for (const entry of unhealthy) {
    logger.warn('blocklist zone not usable this run', {
      zone: entry.zone.displayZone,
      family: entry.family,
      status: entry.health.status,
    });
  }
  const listings = findings.filter(
    (finding) => finding.code.endsWith('listed') && finding.code.startsWith('blocklist.'),
  );
  const stats = {
    targets: collected.targets.length,
    addresses: collected.targets.filter((target) => target.kind === 'ip').length,
    domains: collected.targets.filter((target) => target.kind === 'domain').length,
    zones: zones.length,
    zoneChecks: result.health.length,
    zonesUnusable: unhealthy.length,
    lookups: result.lookups.length,
    listings: listings.length,
    listingsCarriedOver: carried.length,
    dnsQueries: dns.stats.queries,
    dnsAttempts: dns.stats.attempts,
    dnsTimeouts: dns.stats.timeouts,
  };
  logger.info('blocklist check finished', stats);
  const notReached = [...collected.notReached, ...result.healthNotStarted, ...result.notStarted];
  const outcome: JobOutcome = { findings: findings.map((finding) => ({ job: JOB, ...finding })), stats };
  if (notReached.length > 0) {
    outcome.incomplete = {
      message: `${notReached.length} blocklist checks were not started before the deadline (first: ${notReached.slice(0, 3).join('; ')})`,
      data: { notReached: notReached.slice(0, 100), notReachedCount: notReached.length },
    };
  }
  return outcome;
}

/** The check-blocklists job. */
export const definition: JobDefinition<BlocklistsSection> = {
  name: JOB,
  section: 'blocklists',
  description: 'DNSBL listings of mail IPs and domains, with correct return-code semantics',
  schema: blocklistsSchema,
  runsLocally: true,
  // DNS needs no AWS permission; only reading the DQS key (ctx.resolveSecret) does. The AWS-managed
  // aws/ssm key decrypts SecureStrings without an explicit kms:Decrypt grant.
  permissions: (section) =>
    section.dqsKey === undefined
      ? []
      : [
          {
            actions: ['ssm:GetParameter'],
            resources: [
              `arn:aws:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${section.dqsKey.slice('ssm:/'.length)}`,
            ],
          },
        ],
  run,
};
