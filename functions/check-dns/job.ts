/**
 * check-dns: pinned record sets (a provider move that loses MX or NS records), and mail DNS — MX,
 * the senders' PTR and forward-confirmed reverse DNS, SPF, DMARC and DKIM — for each domain.
 */

import { mapBounded } from '#shared/concurrency.ts';
import { DnsClient, type DnsRecordType } from '#shared/dns/client.ts';
import { Lookup } from '#shared/dns/lookup.ts';
import type { Finding } from '#shared/findings.ts';
import type { JobDefinition } from '#shared/job.ts';
import { type AuthoritativeStats, checkAuthoritative } from './authoritative.ts';
import { CODES, finding, JOB } from './codes.ts';
import {
  type DnsSection,
  type DomainConfig,
  dnsSectionSchema,
  type ExpectableType,
  type Expectation,
} from './config.ts';
import { checkMail, type MailSummary } from './mail.ts';
import { checkExpectation, formatRecord } from './records.ts';

const HEALTHY: ReadonlySet<string> = new Set(['ok', 'info']);

interface DomainResult {
  findings: Finding[];
}

/** What the expected-record checks saw (type → published values and TTL). */
type RecordsSeen = Partial<Record<ExpectableType, { values: string[]; ttl?: number }>>;

async function checkRecords(domain: DomainConfig, lookup: Lookup, seen: RecordsSeen): Promise<Finding[]> {
  const entries = Object.entries(domain.records ?? {}) as [ExpectableType, Expectation | undefined][];
  const results = await Promise.all(
    entries.map(async ([type, expectation]) => {
      if (!expectation) return [];
      const outcome = await lookup.query(domain.name, type);
      if (outcome.status === 'answer') {
        seen[type] = {
          values: outcome.records.map(formatRecord),
          ttl: Math.min(...outcome.records.map((record) => record.ttl)),
        };
      }
      return checkExpectation(domain.name, type, expectation, outcome);
    }),
  );
  return results.flat();
}

function okMessage(
  name: string,
  records: RecordsSeen,
  mail: MailSummary | undefined,
  servers: number,
): string {
  const parts: string[] = [];
  for (const [type, entry] of Object.entries(records)) parts.push(`${type} ${entry.values.join(', ')}`);
  if (mail?.mx && !records.MX) parts.push(`MX ${mail.mx.join(', ')}`);
  if (mail?.spf) parts.push(`SPF ${mail.spf.lookups}/10 lookups${mail.spf.all ? `, ${mail.spf.all}` : ''}`);
  if (mail?.dmarc) parts.push(`DMARC p=${mail.dmarc.policy ?? '?'}`);
  if (mail?.dkim)
    parts.push(
      `DKIM ${mail.dkim.map((key) => `${key.selector} ${key.keyType}${key.bits ? `-${key.bits}` : ''}`).join(', ')}`,
    );
  if (mail?.senders)
    parts.push(
      `${mail.senders.length} sender${mail.senders.length === 1 ? '' : 's'} with a matching, forward-confirmed PTR`,
    );
  if (servers > 0) parts.push(`the same answers from all ${servers} authoritative server addresses`);
  return `${name} is as expected: ${parts.join('; ')}.`;
}

async function checkDomain(
  domain: DomainConfig,
  config: DnsSection,
  lookup: Lookup,
  authStats: AuthoritativeStats,
): Promise<DomainResult> {
  const records: RecordsSeen = {};
  const [recordFindings, mail] = await Promise.all([
    checkRecords(domain, lookup, records),
    domain.mail ? checkMail(domain.name, domain.mail, lookup) : Promise.resolve(undefined),
  ]);
  const findings = [...recordFindings, ...(mail?.findings ?? [])];
  let servers = 0;
  if (domain.authoritative ?? config.authoritative) {
    const extra: DnsRecordType[] = domain.mail ? ['MX'] : [];
    const result = await checkAuthoritative(
      domain.name,
      domain.records ?? {},
      extra,
      lookup,
      {
        port: config.authoritativePort,
        ipv6: config.authoritativeIpv6,
        timeoutMs: config.timeoutMs,
        retries: config.retries,
      },
      authStats,
    );
    findings.push(...result.findings);
    servers = result.servers.length;
  }
  if (findings.every((entry) => HEALTHY.has(entry.severity))) {
    const data: Record<string, unknown> = { records };
    if (mail) data['mail'] = mail.summary;
    if (servers > 0) data['authoritativeServers'] = servers;
    findings.push(
      finding(domain.name, CODES.ok, 'ok', okMessage(domain.name, records, mail?.summary, servers), { data }),
    );
  }
  return { findings };
}

/** The check-dns job. */
export const definition: JobDefinition<DnsSection> = {
  name: JOB,
  section: 'dns',
  description:
    'Expected DNS records (lost MX/NS after a provider move) and mail DNS: MX, SPF, DMARC, DKIM, PTR/FCrDNS',
  schema: dnsSectionSchema,
  runsLocally: true,
  // DNS only: no AWS API calls beyond what every job gets.
  permissions: () => [],
  async run(ctx) {
    const { config } = ctx;
    const servers = config.resolver ?? ctx.global.resolver;
    const client = new DnsClient({ servers, timeoutMs: config.timeoutMs, retries: config.retries });
    const lookup = new Lookup(client);
    const authStats: AuthoritativeStats = { queries: 0, servers: 0 };
    const { results, notStarted } = await mapBounded(
      config.domains,
      config.concurrency,
      (domain) => checkDomain(domain, config, lookup, authStats),
      ctx.deadline,
    );
    const findings = results.flatMap((result) => result.findings);
    const outcome = {
      findings,
      stats: {
        domains: results.length,
        queries: client.stats.queries + authStats.queries,
        attempts: client.stats.attempts,
        timeouts: client.stats.timeouts,
        authoritativeServers: authStats.servers,
      },
    };
    if (notStarted.length === 0) return outcome;
    return {
      ...outcome,
      incomplete: {
        message: `The deadline stopped the run before ${notStarted.length} of ${config.domains.length} domains were checked.`,
        data: { notChecked: notStarted.map((domain) => domain.name) },
      },
    };
  },
};
