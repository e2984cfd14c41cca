/**
 * What one DNSBL answer means. Only documented listing codes are listings; NXDOMAIN and NODATA are
 * "not listed"; documented error codes, answers outside 127.0.0.0/8 and undocumented codes are
 * errors; SERVFAIL, REFUSED and timeouts are failures. Nothing here ever turns an error into
 * "clean" or into "listed".
 */
import { isIP } from 'node:net';
import type { DnsFailureReason, DnsOutcome } from '#shared/dns/client.ts';
import type { ListingCategory, ZoneSpec } from './zones.ts';

/** One sub-list an answer placed the query in. */
export interface Listing {
  /** The A record value (`127.0.0.10`), or for bitmask zones the value and bit (`127.0.0.24 bit 8`). */
  code: string;
  meaning: string;
  category: ListingCategory;
}

/** The verdict on one DNSBL answer. */
export type DnsblVerdict =
  | { kind: 'clean'; via: 'nxdomain' | 'nodata' }
  | { kind: 'listed'; listings: Listing[]; codes: string[] }
  /** The list refused to answer us (documented refusal code): `blocklist.query-refused`. */
  | { kind: 'refused'; codes: string[]; reason: string }
  /** The answer is not one the list documents as a listing: `blocklist.zone-broken`. */
  | { kind: 'error'; codes: string[]; reason: string }
  /** No usable DNS answer (SERVFAIL, REFUSED rcode, timeout) after retries: `blocklist.lookup-failed`. */
  | { kind: 'failed'; reason: DnsFailureReason; detail: string };

/** Classifies the outcome of an A query against `zone`. */
export function classifyDnsblAnswer(zone: ZoneSpec, outcome: DnsOutcome): DnsblVerdict {
  switch (outcome.status) {
    case 'nxdomain':
      return { kind: 'clean', via: 'nxdomain' };
    case 'nodata':
      return { kind: 'clean', via: 'nodata' };
    case 'failed':
      return { kind: 'failed', reason: outcome.reason, detail: outcome.detail };
    case 'answer':
      break;
  }
  const codes = [
    ...new Set(outcome.records.flatMap((record) => (record.type === 'A' ? [record.value] : []))),
  ].sort(compareAddresses);
  if (codes.length === 0) return { kind: 'clean', via: 'nodata' };

  // RFC 5782 §2.1: the A record is a code, never an address; outside 127/8 the zone is dead or
  // parked, or a resolver is rewriting NXDOMAIN to an ad server.
  const outside = codes.filter((code) => !isLoopbackCode(code));
  if (outside.length > 0) {
    return {
      kind: 'error',
      codes,
      reason: `answered ${outside.join(', ')}, outside 127.0.0.0/8: the list is dead or parked, or the resolver rewrites its answers`,
    };
  }
  return zone.bitmask ? classifyBitmask(zone, codes) : classifyCodes(zone, codes);
}

function classifyCodes(zone: ZoneSpec, codes: string[]): DnsblVerdict {
  const refusals = codes.filter((code) => zone.errorCodes[code]?.refusal === true);
  if (refusals.length > 0)
    return refused(
      zone,
      codes,
      refusals.map((code) => describeError(zone, code)),
    );
  const errors = codes.filter((code) => zone.errorCodes[code] !== undefined);
  if (errors.length > 0) {
    return {
      kind: 'error',
      codes,
      reason: `answered ${errors.map((code) => describeError(zone, code)).join('; ')}`,
    };
  }
  const undocumented = codes.filter((code) => zone.codes[code] === undefined);
  if (undocumented.length > 0) return undocumentedError(codes, undocumented);
  const listings = codes.map((code) => {
    const listing = zone.codes[code];
    return { code, meaning: listing?.meaning ?? '', category: listing?.category ?? 'spam-source' };
  });
  return { kind: 'listed', listings, codes };
}

function classifyBitmask(zone: ZoneSpec, codes: string[]): DnsblVerdict {
  const bitmask = zone.bitmask ?? {};
  const refusalBits = zone.refusalBits ?? {};
  const listings: Listing[] = [];
  const refusals: string[] = [];
  const undocumented: string[] = [];
  for (const code of codes) {
    const error = zone.errorCodes[code];
    if (error) {
      if (error.refusal) refusals.push(`${code} (${error.meaning})`);
      else return { kind: 'error', codes, reason: `answered ${code} (${error.meaning})` };
      continue;
    }
    const [first, second, third, last] = code.split('.').map(Number);
    if (first !== 127 || second !== 0 || third !== 0 || last === undefined) {
      undocumented.push(code);
      continue;
    }
    for (let bit = 1; bit <= 128; bit <<= 1) {
      if ((last & bit) === 0) continue;
      const refusal = refusalBits[String(bit)];
      const listing = bitmask[String(bit)];
      if (refusal) refusals.push(`${code} (${refusal.meaning})`);
      else if (listing) listings.push({ code: `${code} bit ${bit}`, ...listing });
      else undocumented.push(`${code} bit ${bit}`);
    }
  }
  if (refusals.length > 0) return refused(zone, codes, refusals);
  if (undocumented.length > 0 || listings.length === 0)
    return undocumentedError(codes, undocumented.length > 0 ? undocumented : codes);
  return { kind: 'listed', listings, codes };
}

function refused(zone: ZoneSpec, codes: string[], described: string[]): DnsblVerdict {
  const advice = zone.refusalAdvice ? `: ${zone.refusalAdvice}` : '';
  return { kind: 'refused', codes, reason: `answered ${described.join('; ')}${advice}` };
}

function undocumentedError(codes: string[], undocumented: string[]): DnsblVerdict {
  return {
    kind: 'error',
    codes,
    reason: `answered ${undocumented.join(', ')}, which is not a documented listing code of this list`,
  };
}

function describeError(zone: ZoneSpec, code: string): string {
  const error = zone.errorCodes[code];
  return error ? `${code} (${error.meaning})` : code;
}

function isLoopbackCode(value: string): boolean {
  return isIP(value) === 4 && value.startsWith('127.');
}

function compareAddresses(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let index = 0; index < 4; index += 1) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.localeCompare(b);
}
