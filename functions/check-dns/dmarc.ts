/**
 * DMARC policy discovery (RFC 7489 §6.6.3): the record at `_dmarc.<domain>`, else the one at the
 * organisational domain (public-suffix list via tldts), whose `sp=` then applies. Parsing is
 * written here because the monitor must say *why* a record is invalid, which evaluators do not.
 */
import { getDomain } from 'tldts';
import type { DnsFailureReason } from '#shared/dns/client.ts';
import type { Lookup } from '#shared/dns/lookup.ts';

/** Policies a record can ask for. */
export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

/** A parsed DMARC record, or why it is invalid. */
export type ParsedDmarc =
  | {
      valid: true;
      tags: Record<string, string>;
      policy: DmarcPolicy;
      subdomainPolicy?: DmarcPolicy;
      pct: number;
    }
  | { valid: false; errors: string[]; tags: Record<string, string> };

const POLICIES: ReadonlySet<string> = new Set(['none', 'quarantine', 'reject']);

/** Whether a TXT string is a DMARC record (starts with `v=DMARC1`). */
export function isDmarcRecord(text: string): boolean {
  return /^v\s*=\s*DMARC1\s*(;|$)/i.test(text.trim());
}

/** Parses a DMARC record and names every problem (RFC 7489 §6.3). */
export function parseDmarc(text: string): ParsedDmarc {
  const errors: string[] = [];
  const tags: Record<string, string> = {};
  const parts = text
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  parts.forEach((part, index) => {
    const equals = part.indexOf('=');
    if (equals <= 0) {
      errors.push(`"${part}" is not a tag=value pair`);
      return;
    }
    const name = part.slice(0, equals).trim().toLowerCase();
    const value = part.slice(equals + 1).trim();
    if (index === 0 && (name !== 'v' || value !== 'DMARC1'))
      errors.push('the record must start with "v=DMARC1"');
    if (name in tags) errors.push(`tag "${name}" appears more than once`);
    tags[name] = value;
  });
  const p = tags['p']?.toLowerCase();
  if (p === undefined) errors.push('the required policy tag "p" is missing');
  else if (!POLICIES.has(p)) errors.push(`p=${tags['p']} is not none, quarantine or reject`);
  const sp = tags['sp']?.toLowerCase();
  if (sp !== undefined && !POLICIES.has(sp))
    errors.push(`sp=${tags['sp']} is not none, quarantine or reject`);
  const pctText = tags['pct'];
  const pct = pctText === undefined ? 100 : Number(pctText);
  if (!Number.isInteger(pct) || pct < 0 || pct > 100)
    errors.push(`pct=${pctText} is not a whole number from 0 to 100`);
  for (const key of ['adkim', 'aspf']) {
    const value = tags[key]?.toLowerCase();
    if (value !== undefined && value !== 'r' && value !== 's')
      errors.push(`${key}=${tags[key]} is not r or s`);
  }
  for (const key of ['rua', 'ruf']) {
    const value = tags[key];
    if (value === undefined) continue;
    for (const uri of value.split(',').map((entry) => entry.trim())) {
      if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(uri))
        errors.push(`${key} entry "${uri}" is not a URI such as mailto:dmarc@example.com`);
    }
  }
  if (errors.length > 0 || p === undefined) return { valid: false, errors, tags };
  const result: ParsedDmarc = { valid: true, tags, policy: p as DmarcPolicy, pct };
  if (sp !== undefined) result.subdomainPolicy = sp as DmarcPolicy;
  return result;
}

/** What policy discovery found for a domain. */
export type DmarcDiscovery =
  | {
      kind: 'found';
      /** Where the record is published (`_dmarc.` + this). */
      recordDomain: string;
      /** True when it is the organisational domain's record (then `sp=` applies). */
      inherited: boolean;
      record: string;
      parsed: ParsedDmarc;
      /** The policy that applies to this domain: p=, or sp= (default p=) when inherited. */
      effectivePolicy?: DmarcPolicy;
    }
  | { kind: 'multiple'; recordDomain: string; records: string[] }
  | { kind: 'missing'; checked: string[] }
  | { kind: 'failed'; name: string; reason: DnsFailureReason; detail: string };

/** The organisational domain of `domain` (RFC 7489 §3.2, public-suffix list). */
export function organisationalDomain(domain: string): string {
  return getDomain(domain, { allowPrivateDomains: false }) ?? domain;
}

/** Finds the DMARC policy that applies to `domain`. Never throws for DNS failures. */
export async function discoverDmarc(domain: string, lookup: Lookup): Promise<DmarcDiscovery> {
  const org = organisationalDomain(domain);
  const candidates = org === domain ? [domain] : [domain, org];
  for (const candidate of candidates) {
    const name = `_dmarc.${candidate}`;
    const { values, outcome } = await lookup.txt(name);
    if (outcome.status === 'failed')
      return { kind: 'failed', name, reason: outcome.reason, detail: outcome.detail };
    const records = values.filter(isDmarcRecord);
    if (records.length > 1) return { kind: 'multiple', recordDomain: candidate, records };
    const record = records[0];
    if (record === undefined) continue;
    const parsed = parseDmarc(record);
    const inherited = candidate !== domain;
    const found: DmarcDiscovery = { kind: 'found', recordDomain: candidate, inherited, record, parsed };
    if (parsed.valid)
      found.effectivePolicy = inherited ? (parsed.subdomainPolicy ?? parsed.policy) : parsed.policy;
    return found;
  }
  return { kind: 'missing', checked: candidates.map((candidate) => `_dmarc.${candidate}`) };
}
