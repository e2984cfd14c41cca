/**
 * DNSBL query names (RFC 5782 §2: reversed octets, 32 reversed nibbles, or the domain, followed by
 * the zone; Spamhaus DQS puts the key in front of the DQS zone) and the redaction that keeps the
 * DQS key out of everything a person or a log sees.
 */
import { reversedAddress } from '#shared/dns/names.ts';
import type { ZoneSpec } from './zones.ts';

/** Shown instead of the DQS key in zone names. */
export const REDACTED = '[redacted]';

/** A zone as this run queries it. */
export interface ActiveZone {
  spec: ZoneSpec;
  /** The zone appended to queries; contains the DQS key when one is used. Never shown. */
  queryZone: string;
  /** The zone as shown to people, with any key replaced by `[redacted]`. */
  displayZone: string;
  /** Whether the zone is queried through Spamhaus DQS. */
  dqs: boolean;
}

/** The zone to query for `spec`: the DQS form `<key>.<dqsZone>` when a key is given. */
export function activateZone(spec: ZoneSpec, dqsKey: string | undefined): ActiveZone {
  if (dqsKey !== undefined && spec.dqsZone !== undefined) {
    return {
      spec,
      queryZone: `${dqsKey}.${spec.dqsZone}`,
      displayZone: `${REDACTED}.${spec.dqsZone}`,
      dqs: true,
    };
  }
  return { spec, queryZone: spec.zone, displayZone: spec.zone, dqs: false };
}

/** The name to query: reversed address (IPv4 octets, IPv6 nibbles) or domain, then the zone. */
export function dnsblQueryName(
  zone: Pick<ActiveZone, 'queryZone'>,
  item: string,
  kind: 'ip' | 'domain',
): string {
  const prefix = kind === 'ip' ? reversedAddress(item) : item.toLowerCase().replace(/\.$/, '');
  return `${prefix}.${zone.queryZone}`;
}

/** A function that replaces every occurrence of the secrets (case-insensitively) with `[redacted]`. */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const present = secrets.filter((secret) => secret.length > 0);
  if (present.length === 0) return (text) => text;
  const pattern = new RegExp(present.map(escapeRegExp).join('|'), 'gi');
  return (text) => text.replace(pattern, REDACTED);
}

/** Applies `redact` to every string inside `value` (objects, arrays), keeping its shape. */
export function redactDeep<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact)) as T;
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) result[redact(key)] = redactDeep(item, redact);
    return result as T;
  }
  return value;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
