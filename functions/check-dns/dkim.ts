/**
 * DKIM public keys (RFC 6376 §3.6.1) at `<selector>._domainkey.<domain>`: present, not revoked
 * (an empty `p=`), and long enough. RSA key sizes come from node:crypto reading the key as
 * SubjectPublicKeyInfo (the RFC's form), or as a bare PKCS#1 RSAPublicKey, which some publishers use.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { DnsFailureReason } from '#shared/dns/client.ts';
import type { Lookup } from '#shared/dns/lookup.ts';

/** RSA keys below this many bits are a warning (RFC 8301 recommends 2048). */
export const DKIM_RECOMMENDED_BITS = 2048;
/** RSA keys below this many bits are critical: receivers must not accept them (RFC 8301 §3.2). */
export const DKIM_MINIMUM_BITS = 1024;

/** What the key record of one selector says. */
export type DkimKey =
  | { kind: 'key'; name: string; keyType: string; bits?: number; ttl: number }
  | { kind: 'revoked'; name: string }
  | { kind: 'missing'; name: string; answer: 'nxdomain' | 'nodata' | 'no-key-record' }
  | { kind: 'invalid'; name: string; reason: string }
  | { kind: 'failed'; name: string; reason: DnsFailureReason; detail: string };

/** Tags of a DKIM key record. */
export function parseDkimTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of text.split(';')) {
    const equals = part.indexOf('=');
    if (equals <= 0) continue;
    tags[part.slice(0, equals).trim().toLowerCase()] = part.slice(equals + 1).replace(/\s+/g, '');
  }
  return tags;
}

function readKey(der: Buffer): KeyObject {
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
  }
}

/** Reads the key of one selector. Never throws for DNS failures. */
export async function readDkimKey(domain: string, selector: string, lookup: Lookup): Promise<DkimKey> {
  const name = `${selector}._domainkey.${domain}`;
  const { values, outcome } = await lookup.txt(name);
  if (outcome.status === 'failed')
    return { kind: 'failed', name, reason: outcome.reason, detail: outcome.detail };
  if (outcome.status !== 'answer') return { kind: 'missing', name, answer: outcome.status };
  const candidates = values
    .map(parseDkimTags)
    .filter((tags) => 'p' in tags && (tags['v'] ?? 'DKIM1') === 'DKIM1');
  const tags = candidates[0];
  if (!tags) return { kind: 'missing', name, answer: 'no-key-record' };
  const data = tags['p'] ?? '';
  if (data === '') return { kind: 'revoked', name };
  const keyType = (tags['k'] ?? 'rsa').toLowerCase();
  const ttl = Math.min(...outcome.records.map((record) => record.ttl));
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return { kind: 'invalid', name, reason: 'p= is not base64' };
  if (keyType === 'ed25519') {
    // RFC 8463: the raw 32-byte public key, not SPKI.
    const raw = Buffer.from(data, 'base64');
    return raw.length === 32
      ? { kind: 'key', name, keyType, bits: 256, ttl }
      : { kind: 'invalid', name, reason: `an Ed25519 key must be 32 bytes, p= holds ${raw.length}` };
  }
  if (keyType !== 'rsa') return { kind: 'key', name, keyType, ttl };
  try {
    const key = readKey(Buffer.from(data, 'base64'));
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (key.asymmetricKeyType !== 'rsa' || bits === undefined)
      return {
        kind: 'invalid',
        name,
        reason: `k=rsa but p= holds a ${key.asymmetricKeyType ?? 'non-RSA'} key`,
      };
    return { kind: 'key', name, keyType, bits, ttl };
  } catch (error) {
    return {
      kind: 'invalid',
      name,
      reason: `p= is not a readable RSA public key (${error instanceof Error ? error.message : String(error)})`,
    };
  }
}
