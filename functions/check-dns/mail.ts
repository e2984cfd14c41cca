/**
 * Mail DNS of one domain: MX (with null MX and the silent A-record fallback), the senders' reverse
 * DNS, SPF (static lint of the whole tree plus mailauth's evaluation for each sender IP), DMARC
 * and DKIM. Returns findings for problems and a summary of what was seen for `dns.ok`.
 */
import { spf } from 'mailauth/lib/spf/index.js';
import type { Lookup } from '#shared/dns/lookup.ts';
import { findMailHosts } from '#shared/dns/mail-hosts.ts';
import type { Finding, Severity } from '#shared/findings.ts';
import { CODES, finding } from './codes.ts';
import type { MailConfig } from './config.ts';
import { DKIM_MINIMUM_BITS, DKIM_RECOMMENDED_BITS, readDkimKey } from './dkim.ts';
import { discoverDmarc } from './dmarc.ts';
import { nodeStyleResolver } from './lookup.ts';
import { checkSender } from './ptr.ts';
import { lintSpf, SPF_LOOKUP_LIMIT, SPF_VOID_LIMIT, type SpfLint } from './spf.ts';

/** What was seen, for the domain's `dns.ok`. */
export interface MailSummary {
  mx?: string[];
  spf?: { lookups: number; voidLookups: number; all?: string };
  dmarc?: { policy?: string; recordDomain: string };
  dkim?: { selector: string; keyType: string; bits?: number }[];
  senders?: { ip: string; ptr: string[] }[];
}

/** Runs every mail check of one domain. */
export async function checkMail(
  domain: string,
  mail: MailConfig,
  lookup: Lookup,
): Promise<{ findings: Finding[]; summary: MailSummary }> {
  const summary: MailSummary = {};
  const parts = await Promise.all([
    checkMx(domain, mail, lookup, summary),
    checkSenders(domain, mail, lookup, summary),
    checkSpf(domain, mail, lookup, summary),
    checkDmarc(domain, mail, lookup, summary),
    checkDkim(domain, mail, lookup, summary),
  ]);
  return { findings: parts.flat(), summary };
}

async function checkMx(
  domain: string,
  mail: MailConfig,
  lookup: Lookup,
  summary: MailSummary,
): Promise<Finding[]> {
  const found = await findMailHosts(domain, lookup);
  switch (found.kind) {
    case 'failed':
      return [
        finding(
          domain,
          CODES.lookupFailed,
          'unknown',
          `Could not look up the MX records of ${domain} (${found.reason}), so mail routing is unknown.`,
          {
            subject: 'MX',
            data: { type: 'MX', reason: found.reason, detail: found.detail },
          },
        ),
      ];
    case 'none':
      if (!mail.acceptsMail) return [];
      return [
        finding(
          domain,
          CODES.mxMissing,
          'critical',
          `${domain} has no MX records (${found.answer === 'nxdomain' ? 'the name does not exist' : 'NODATA'}): senders fall back to its A record or bounce, so its mail is probably lost.`,
          { subject: 'MX', data: { answer: found.answer } },
        ),
      ];
    case 'null-mx':
      summary.mx = ['0 .'];
      return mail.acceptsMail
        ? [
            finding(
              domain,
              CODES.mxMissing,
              'info',
              `${domain} publishes a null MX (0 .): it declares that it accepts no mail.`,
              {
                subject: 'MX',
                data: { nullMx: true, ttl: found.ttl },
              },
            ),
          ]
        : [];
    case 'mx': {
      summary.mx = found.hosts.map((host) => `${host.preference} ${host.host}`);
      const findings: Finding[] = [];
      const usable = found.hosts.filter((host) => host.addresses.length > 0);
      for (const host of found.hosts) {
        if (host.failures.length > 0 && host.addresses.length === 0) {
          findings.push(
            finding(
              domain,
              CODES.lookupFailed,
              'unknown',
              `Could not resolve MX host ${host.host} (${host.failures.map((failure) => `${failure.type} ${failure.reason}`).join(', ')}).`,
              {
                subject: host.host,
                data: { failures: host.failures },
              },
            ),
          );
        } else if (host.addresses.length === 0) {
          const severity: Severity = usable.length === 0 ? 'critical' : 'warning';
          findings.push(
            finding(
              domain,
              CODES.mxHostNoAddress,
              severity,
              `MX host ${host.host} (preference ${host.preference}) of ${domain} has no A or AAAA record, so no mail can be delivered to it${usable.length === 0 ? ' and no other MX host works' : ''}.`,
              { subject: host.host, data: { host: host.host, preference: host.preference } },
            ),
          );
        }
      }
      return findings;
    }
  }
}

async function checkSenders(
  domain: string,
  mail: MailConfig,
  lookup: Lookup,
  summary: MailSummary,
): Promise<Finding[]> {
  const results = await Promise.all(mail.senders.map((sender) => checkSender(domain, sender, lookup)));
  const seen = results.flatMap((result) =>
    result.summary ? [{ ip: result.summary.ip, ptr: result.summary.ptr }] : [],
  );
  if (seen.length > 0) summary.senders = seen;
  return results.flatMap((result) => result.findings);
}

function describeCatchAll(lint: SpfLint): string | undefined {
  const all = lint.catchAll;
  if (!all) return undefined;
  if (all.qualifier === 'none') return 'no all';
  return `${all.qualifier}all${all.via ? ` via ${all.via}` : ''}`;
}

async function checkSpf(
  domain: string,
  mail: MailConfig,
  lookup: Lookup,
  summary: MailSummary,
): Promise<Finding[]> {
  const lint = await lintSpf(domain, lookup);
  const subject = 'SPF';
  if (lint.topOutcome === 'failed') {
    return [
      finding(
        domain,
        CODES.lookupFailed,
        'unknown',
        `Could not look up the SPF record of ${domain}: ${lint.failures[0]?.message ?? 'lookup failed'}.`,
        {
          subject,
          data: { type: 'TXT', failures: lint.failures },
        },
      ),
    ];
  }
  if (lint.records.length === 0) {
    const severity: Severity = mail.senders.length > 0 ? 'critical' : 'warning';
    return [
      finding(
        domain,
        CODES.spfMissing,
        severity,
        `${domain} has no SPF record, so receivers cannot tell its mail from forgeries${mail.senders.length === 0 ? ' (a domain that sends no mail should publish "v=spf1 -all")' : ''}.`,
        { subject, data: { answer: lint.topOutcome } },
      ),
    ];
  }
  if (lint.records.length > 1) {
    return [
      finding(
        domain,
        CODES.spfMultiple,
        'critical',
        `${domain} publishes ${lint.records.length} SPF records; receivers treat that as a permanent error and SPF fails for all its mail.`,
        {
          subject,
          data: { records: lint.records },
        },
      ),
    ];
  }
  const findings: Finding[] = [];
  const data = {
    record: lint.records[0],
    lookups: lint.lookups,
    voidLookups: lint.voidLookups,
    tree: lint.tree,
    ...(lint.ttl === undefined ? {} : { ttl: lint.ttl }),
  };
  const lowerBound =
    lint.failures.length > 0 || lint.unresolvable.length > 0 || lint.truncated ? 'at least ' : '';
  if (lint.errors.length > 0) {
    findings.push(
      finding(
        domain,
        CODES.spfInvalid,
        'critical',
        `The SPF record of ${domain} is invalid, receivers return permerror: ${lint.errors.map((error) => `${error.domain}: ${error.message}`).join('; ')}.`,
        {
          subject,
          data: { ...data, errors: lint.errors },
        },
      ),
    );
  }
  if (lint.lookups > SPF_LOOKUP_LIMIT) {
    findings.push(
      finding(
        domain,
        CODES.spfTooManyLookups,
        'critical',
        `The SPF record of ${domain} needs ${lowerBound}${lint.lookups} DNS lookups (include, a, mx, ptr, exists, redirect across all includes); the limit is ${SPF_LOOKUP_LIMIT}, beyond it receivers return permerror.`,
        { subject, data: { ...data, limit: SPF_LOOKUP_LIMIT, perRecord: flattenCounts(lint) } },
      ),
    );
  }
  if (lint.voidLookups.length > SPF_VOID_LIMIT) {
    findings.push(
      finding(
        domain,
        CODES.spfVoidLookups,
        'critical',
        `The SPF record of ${domain} has ${lint.voidLookups.length} void lookups (${lint.voidLookups.join(', ')}); receivers may return permerror above ${SPF_VOID_LIMIT}.`,
        { subject, data: { ...data, limit: SPF_VOID_LIMIT } },
      ),
    );
  }
  if (lint.failures.length > 0) {
    findings.push(
      finding(
        domain,
        CODES.lookupFailed,
        'unknown',
        `Part of the SPF tree of ${domain} could not be looked up (${lint.failures.map((failure) => failure.domain).join(', ')}), so its lookup count is a lower bound.`,
        {
          subject,
          data: { failures: lint.failures },
        },
      ),
    );
  }
  const all = lint.catchAll;
  if (all?.qualifier === '+') {
    findings.push(
      finding(
        domain,
        CODES.spfPermissive,
        'critical',
        `The SPF record of ${domain} ends in +all${all.via ? ` (reached via ${all.via})` : ''}: every server on the internet passes SPF for it.`,
        {
          subject,
          data: { ...data, catchAll: all },
        },
      ),
    );
  } else if (all?.qualifier === '?' || all?.qualifier === 'none') {
    findings.push(
      finding(
        domain,
        CODES.spfPermissive,
        'warning',
        `The SPF record of ${domain} ${all.qualifier === '?' ? 'ends in ?all' : 'has no all mechanism'}: unlisted servers get "neutral", so forgeries are not rejected (use ~all or -all).`,
        { subject, data: { ...data, catchAll: all } },
      ),
    );
  }
  summary.spf = { lookups: lint.lookups, voidLookups: lint.voidLookups.length };
  const described = describeCatchAll(lint);
  if (described) summary.spf.all = described;
  findings.push(...(await evaluateSenders(domain, mail, lookup)));
  return findings;
}

function flattenCounts(lint: SpfLint): Record<string, number> {
  const counts: Record<string, number> = {};
  const visit = (node: NonNullable<SpfLint['tree']>) => {
    counts[node.domain] = (counts[node.domain] ?? 0) + node.lookups;
    for (const child of node.children) visit(child);
  };
  if (lint.tree) visit(lint.tree);
  return counts;
}

/** mailauth's evaluation of each sender IP, as a receiver would do it. */
async function evaluateSenders(domain: string, mail: MailConfig, lookup: Lookup): Promise<Finding[]> {
  const resolver = nodeStyleResolver(lookup);
  const results = await Promise.all(
    mail.senders.map(async (sender) => {
      const result = await spf({
        ip: sender.ip,
        sender: `postmaster@${domain}`,
        helo: sender.hostname,
        mta: 'watchkeeper',
        resolver,
      });
      return { sender, result: result.status.result, comment: result.status.comment };
    }),
  );
  return results.flatMap(({ sender, result, comment }): Finding[] => {
    if (result === 'pass') return [];
    if (result === 'temperror' || result === 'temperr') {
      return [
        finding(
          domain,
          CODES.lookupFailed,
          'unknown',
          `SPF for ${sender.ip} could not be evaluated (temperror${comment ? `: ${comment}` : ''}).`,
          {
            subject: sender.ip,
            data: { result, comment },
          },
        ),
      ];
    }
    return [
      finding(
        domain,
        CODES.spfSenderNotAuthorized,
        'critical',
        `Mail server ${sender.ip} (${sender.hostname}) gets SPF "${result}" for ${domain}, not "pass": receivers may junk or reject its mail.`,
        {
          subject: sender.ip,
          data: { result, comment },
        },
      ),
    ];
  });
}

async function checkDmarc(
  domain: string,
  mail: MailConfig,
  lookup: Lookup,
  summary: MailSummary,
): Promise<Finding[]> {
  const found = await discoverDmarc(domain, lookup);
  const subject = 'DMARC';
  switch (found.kind) {
    case 'failed':
      return [
        finding(
          domain,
          CODES.lookupFailed,
          'unknown',
          `Could not look up the DMARC record ${found.name} (${found.reason}).`,
          {
            subject,
            data: { name: found.name, reason: found.reason, detail: found.detail },
          },
        ),
      ];
    case 'missing':
      return [
        finding(
          domain,
          CODES.dmarcMissing,
          mail.dmarc === 'required' ? 'critical' : 'warning',
          `${domain} has no DMARC record (looked at ${found.checked.join(' and ')}), so receivers apply no policy to forgeries of it.`,
          { subject, data: { checked: found.checked } },
        ),
      ];
    case 'multiple':
      return [
        finding(
          domain,
          CODES.dmarcInvalid,
          'critical',
          `_dmarc.${found.recordDomain} holds ${found.records.length} DMARC records; receivers then apply none of them.`,
          {
            subject,
            data: { records: found.records },
          },
        ),
      ];
    case 'found': {
      const where = found.inherited ? ` (inherited from ${found.recordDomain})` : '';
      if (!found.parsed.valid) {
        return [
          finding(
            domain,
            CODES.dmarcInvalid,
            'critical',
            `The DMARC record of ${domain}${where} is invalid: ${found.parsed.errors.join('; ')}.`,
            {
              subject,
              data: { record: found.record, recordDomain: found.recordDomain, errors: found.parsed.errors },
            },
          ),
        ];
      }
      summary.dmarc = { recordDomain: found.recordDomain };
      if (found.effectivePolicy) summary.dmarc.policy = found.effectivePolicy;
      if (found.effectivePolicy === 'none') {
        return [
          finding(
            domain,
            CODES.dmarcPolicyNone,
            'warning',
            `The DMARC policy of ${domain}${where} is "none": reports only, forgeries are still delivered (move to quarantine or reject).`,
            {
              subject,
              data: { record: found.record, recordDomain: found.recordDomain, inherited: found.inherited },
            },
          ),
        ];
      }
      return [];
    }
  }
}

async function checkDkim(
  domain: string,
  mail: MailConfig,
  lookup: Lookup,
  summary: MailSummary,
): Promise<Finding[]> {
  const keys = await Promise.all(
    mail.dkimSelectors.map(async (selector) => ({
      selector,
      key: await readDkimKey(domain, selector, lookup),
    })),
  );
  const findings: Finding[] = [];
  const seen: NonNullable<MailSummary['dkim']> = [];
  for (const { selector, key } of keys) {
    const subject = `DKIM ${selector}`;
    switch (key.kind) {
      case 'failed':
        findings.push(
          finding(
            domain,
            CODES.lookupFailed,
            'unknown',
            `Could not look up the DKIM key ${key.name} (${key.reason}).`,
            {
              subject,
              data: { name: key.name, reason: key.reason, detail: key.detail },
            },
          ),
        );
        break;
      case 'missing':
        findings.push(
          finding(
            domain,
            CODES.dkimMissing,
            'critical',
            `DKIM selector "${selector}" of ${domain} has no key at ${key.name}${key.answer === 'no-key-record' ? ' (the TXT record there is not a DKIM key)' : ''}: mail signed with it fails DKIM.`,
            {
              subject,
              data: { name: key.name, answer: key.answer },
            },
          ),
        );
        break;
      case 'revoked':
        findings.push(
          finding(
            domain,
            CODES.dkimMissing,
            'critical',
            `DKIM selector "${selector}" of ${domain} is revoked (empty p= at ${key.name}): mail signed with it fails DKIM.`,
            {
              subject,
              data: { name: key.name, revoked: true },
            },
          ),
        );
        break;
      case 'invalid':
        findings.push(
          finding(
            domain,
            CODES.dkimMissing,
            'critical',
            `DKIM selector "${selector}" of ${domain} has an unusable key at ${key.name}: ${key.reason}.`,
            {
              subject,
              data: { name: key.name, reason: key.reason },
            },
          ),
        );
        break;
      case 'key': {
        const entry: NonNullable<MailSummary['dkim']>[number] = { selector, keyType: key.keyType };
        if (key.bits !== undefined) entry.bits = key.bits;
        seen.push(entry);
        if (key.keyType === 'rsa' && key.bits !== undefined && key.bits < DKIM_RECOMMENDED_BITS) {
          const critical = key.bits < DKIM_MINIMUM_BITS;
          findings.push(
            finding(
              domain,
              CODES.dkimWeakKey,
              critical ? 'critical' : 'warning',
              `DKIM selector "${selector}" of ${domain} uses a ${key.bits}-bit RSA key; ${critical ? `receivers reject keys under ${DKIM_MINIMUM_BITS} bits` : `use at least ${DKIM_RECOMMENDED_BITS} bits`}.`,
              { subject, data: { name: key.name, bits: key.bits, ttl: key.ttl } },
            ),
          );
        }
        break;
      }
    }
  }
  if (seen.length > 0) summary.dkim = seen;
  return findings;
}
