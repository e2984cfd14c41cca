/**
 * Facts about one certificate that Node 22's X509Certificate does not expose directly: the
 * signature algorithm (read from the DER: Certificate ::= SEQUENCE { tbs, signatureAlgorithm, sig })
 * and the key's strength. Parsing three DER headers is smaller than bundling an ASN.1 library.
 */
import type { X509Certificate } from 'node:crypto';

const SIGNATURE_ALGORITHMS: Readonly<Record<string, { name: string; hash: string }>> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', hash: 'MD2' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: 'MD5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'SHA-1' },
  '1.3.14.3.2.29': { name: 'sha1WithRSASignature', hash: 'SHA-1' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'SHA-256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'SHA-384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'SHA-512' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', hash: 'SHA-224' },
  '1.2.840.113549.1.1.10': { name: 'RSASSA-PSS', hash: 'see parameters' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'SHA-1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', hash: 'SHA-224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'SHA-256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'SHA-384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'SHA-512' },
  '1.2.840.10040.4.3': { name: 'dsa-with-SHA1', hash: 'SHA-1' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa-with-SHA256', hash: 'SHA-256' },
  '1.3.101.112': { name: 'Ed25519', hash: 'none (EdDSA)' },
  '1.3.101.113': { name: 'Ed448', hash: 'none (EdDSA)' },
};

/** Hashes no client should accept in a certificate signature any more. */
export const WEAK_HASHES: ReadonlySet<string> = new Set(['MD2', 'MD5', 'SHA-1']);

/** Reads a DER header at `offset`: tag, header length, content length. */
function derHeader(der: Buffer, offset: number): { tag: number; header: number; length: number } {
  const tag = der[offset] ?? 0;
  const first = der[offset + 1] ?? 0;
  if (first < 0x80) return { tag, header: 2, length: first };
  const count = first & 0x7f;
  return { tag, header: 2 + count, length: der.readUIntBE(offset + 2, count) };
}

function decodeOid(bytes: Buffer): string {
  const first = bytes[0] ?? 0;
  const parts = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40];
  let value = 0;
  for (const byte of bytes.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

/** The certificate's signature algorithm OID, name and hash. */
export function signatureAlgorithm(certificate: X509Certificate): {
  oid: string;
  name: string;
  hash: string;
} {
  const der = certificate.raw;
  const outer = derHeader(der, 0);
  const tbs = derHeader(der, outer.header);
  const algorithmOffset = outer.header + tbs.header + tbs.length;
  const algorithm = derHeader(der, algorithmOffset);
  const oidHeader = derHeader(der, algorithmOffset + algorithm.header);
  const start = algorithmOffset + algorithm.header + oidHeader.header;
  const oid = decodeOid(der.subarray(start, start + oidHeader.length));
  const known = SIGNATURE_ALGORITHMS[oid];
  return { oid, name: known?.name ?? oid, hash: known?.hash ?? 'unknown' };
}

const CURVE_BITS: Readonly<Record<string, number>> = {
  prime192v1: 192,
  secp224r1: 224,
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
  brainpoolP256r1: 256,
  brainpoolP384r1: 384,
  brainpoolP512r1: 512,
};

/** The public key's type and size in bits, and whether it is weak (RSA/DSA < 2048, EC < 256). */
export function keyStrength(certificate: X509Certificate): {
  type: string;
  bits: number | undefined;
  weak: boolean;
} {
  const key = certificate.publicKey;
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  switch (type) {
    case 'rsa':
    case 'rsa-pss':
    case 'dsa': {
      const bits = details.modulusLength;
      return { type, bits, weak: bits !== undefined && bits < 2048 };
    }
    case 'ec': {
      const bits = details.namedCurve === undefined ? undefined : CURVE_BITS[details.namedCurve];
      return { type, bits, weak: bits !== undefined && bits < 256 };
    }
    case 'ed25519':
      return { type, bits: 256, weak: false };
    case 'ed448':
      return { type, bits: 456, weak: false };
    default:
      return { type, bits: undefined, weak: false };
  }
}

/** The subject's common name (or the whole subject when it has none). */
export function commonName(certificate: Pick<X509Certificate, 'subject'>): string {
  return /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject)?.[1] ?? certificate.subject.replace(/\n/g, ', ');
}

/** The issuer's common name (or organisation, or the whole issuer). */
export function issuerName(certificate: Pick<X509Certificate, 'issuer'>): string {
  return (
    /(?:^|\n)CN=([^\n]+)/.exec(certificate.issuer)?.[1] ??
    /(?:^|\n)O=([^\n]+)/.exec(certificate.issuer)?.[1] ??
    certificate.issuer.replace(/\n/g, ', ')
  );
}
