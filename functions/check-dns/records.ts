/**
 * Expected record sets: compares what a server published with what the configuration pins, case-
 * and trailing-dot-insensitively for names, and turns NXDOMAIN/NODATA (answers) and SERVFAIL,
 * REFUSED or a timeout (no answer) into the right findings.
 */
import { isIP } from 'node:net';
import type { DnsOutcome, DnsRecord } from '#shared/dns/client.ts';
import { ipv6Nibbles } from '#shared/dns/names.ts';
import type { Finding } from '#shared/findings.ts';
import { CODES, finding } from './codes.ts';
import type { ExpectableType, Expectation } from './config.ts';

/** A DNS name as compared: lower case, without the root dot. */
export function canonicalName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') && lower.length > 1 ? lower.slice(0, -1) : lower;
}

/** An address as compared: IPv6 fully expanded so `2001:db8::1` equals `2001:0db8:0:0::1`. */
export function canonicalAddress(address: string): string {
  return isIP(address) === 6 ? ipv6Nibbles(address).join('') : address.trim();
}

/** The zone-file-like text of a record, as messages show it. */
export function formatRecord(record: DnsRecord): string {
  switch (record.type) {
    case 'MX':
      return `${record.preference} ${record.exchange}`;
    case 'CAA':
      return `${record.flags} ${record.tag} "${record.value}"`;
    case 'SOA':
      return `${record.mname} ${record.rname} ${record.serial}`;
    default:
      return record.value;
  }
}

interface CaaValue {
  flags: number;
  tag: string;
  value: string;
}

function parseCaa(text: string): CaaValue | undefined {
  const match = /^(\d{1,3})\s+([A-Za-z0-9]+)\s+"?(.*?)"?$/.exec(text.trim());
  if (!match) return undefined;
  return { flags: Number(match[1]), tag: (match[2] ?? '').toLowerCase(), value: match[3] ?? '' };
}

/** Whether one configured value describes one published record. */
export function valueMatches(expected: string, record: DnsRecord): boolean {
  switch (record.type) {
    case 'MX': {
      const parts = expected.trim().split(/\s+/);
      const [first = '', second] = parts;
      if (second === undefined) return canonicalName(first) === record.exchange;
      return Number(first) === record.preference && canonicalName(second) === record.exchange;
    }
    case 'A':
    case 'AAAA':
      return canonicalAddress(expected) === canonicalAddress(record.value);
    case 'NS':
    case 'CNAME':
      return canonicalName(expected) === canonicalName(record.value);
    case 'TXT':
      // TXT data is not a name: verification tokens and keys are case-sensitive.
      return expected === record.value;
    case 'CAA': {
      const caa = parseCaa(expected);
      return (
        caa !== undefined &&
        caa.flags === record.flags &&
        caa.tag === record.tag.toLowerCase() &&
        caa.value.toLowerCase() === record.value.toLowerCase()
      );
    }
    default:
      return expected === formatRecord(record);
  }
}

/** Configured values that no record matches, and records no configured value describes. */
export function compareSet(
  expected: readonly string[],
  records: readonly DnsRecord[],
): { missing: string[]; unexpected: string[] } {
  const missing = expected.filter((value) => !records.some((record) => valueMatches(value, record)));
  const unexpected = records
    .filter((record) => !expected.some((value) => valueMatches(value, record)))
    .map(formatRecord);
  return { missing, unexpected };
}

/** Where an answer came from, for messages: the resolver or one authoritative server. */
export interface AnswerSource {
  /** `undefined` for the configured resolver; e.g. `ns1.example.com (192.0.2.53)` otherwise. */
  label?: string;
}

/** The sentence fragment naming the source. */
function from(source: AnswerSource): string {
  return source.label ? ` at ${source.label}` : '';
}

/**
 * Findings for one expected set against one answer. Returns an empty list when the set is as
 * expected (the caller summarises healthy sets in `dns.ok`).
 */
export function checkExpectation(
  domain: string,
  type: ExpectableType,
  expectation: Expectation,
  outcome: DnsOutcome,
  source: AnswerSource = {},
): Finding[] {
  const subject = source.label ? `${type} ${source.label}` : type;
  const expected = expectation.values;
  if (outcome.status === 'failed') {
    return [
      finding(
        domain,
        CODES.lookupFailed,
        'unknown',
        `Could not look up the ${type} records of ${domain}${from(source)} (${outcome.reason}), so they were not compared.`,
        { subject, data: { type, reason: outcome.reason, detail: outcome.detail, server: outcome.server } },
      ),
    ];
  }
  if (outcome.status !== 'answer') {
    const answer =
      outcome.status === 'nxdomain' ? 'the name does not exist (NXDOMAIN)' : 'no such records (NODATA)';
    return [
      finding(
        domain,
        CODES.recordMissing,
        expectation.severity,
        `${domain} has no ${type} records${from(source)}: ${answer}; expected ${expected.join(', ')}.`,
        { subject, data: { type, expected, actual: [], answer: outcome.status, server: outcome.server } },
      ),
    ];
  }
  const { missing, unexpected } = compareSet(expected, outcome.records);
  const mismatch = missing.length > 0 || (expectation.match === 'exact' && unexpected.length > 0);
  if (!mismatch) return [];
  const actual = outcome.records.map(formatRecord);
  const detail = [
    missing.length > 0 ? `missing ${missing.join(', ')}` : undefined,
    expectation.match === 'exact' && unexpected.length > 0
      ? `unexpected ${unexpected.join(', ')}`
      : undefined,
  ]
    .filter(Boolean)
    .join('; ');
  return [
    finding(
      domain,
      CODES.recordMismatch,
      expectation.severity,
      `The ${type} records of ${domain}${from(source)} differ from the expected set (${detail}): published ${actual.join(', ')}; expected ${expectation.match === 'contains' ? 'at least ' : ''}${expected.join(', ')}.`,
      {
        subject,
        data: {
          type,
          match: expectation.match,
          expected,
          actual,
          missing,
          unexpected,
          ttls: outcome.records.map((record) => record.ttl),
          server: outcome.server,
        },
      },
    ),
  ];
}
