/**
 * Certificates made to order for tests, benchmarks and the demo: a CA, intermediates and leaves
 * with chosen validity, SANs (DNS and IP), key type and size, signature hash (SHA-1 included),
 * self-signed or issued, with an optional AIA "CA Issuers" URL. Built with @peculiar/x509 on Node's
 * WebCrypto; keys are Node KeyObjects so they can sign with any hash and be served by `tls`.
 */
import {
  generateKeyPair as generateKeyPairCallback,
  type KeyObject,
  X509Certificate as NodeX509Certificate,
  randomBytes,
  type webcrypto,
} from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

const generateKeyPairAsync = promisify(generateKeyPairCallback);

/** Key algorithm and size of a generated key. */
export type KeySpec = { type: 'rsa'; bits: number } | { type: 'ec'; curve: 'P-256' | 'P-384' | 'P-521' };

/** Hash used to sign a certificate. */
export type SignatureHash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** A key pair as Node KeyObjects, plus what it is. */
export interface KeyPair {
  spec: KeySpec;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM of the private key, as `tls.createSecureContext({ key })` wants it. */
  privateKeyPem: string;
}

/** What to issue. Everything except `commonName` has a sensible default. */
export interface CertificateSpec {
  commonName: string;
  /** Extra subject attributes, e.g. `O=Example`. */
  organization?: string;
  /** DNS names and IP addresses (IP literals become iPAddress SANs). Default: none. */
  altNames?: readonly string[];
  /** Default: one hour ago. */
  notBefore?: Date;
  /** Default: 90 days after notBefore. */
  notAfter?: Date;
  /** Default: EC P-256 (fast); ignored when `keyPair` is given. */
  key?: KeySpec;
  /** Reuse a key (many leaves, one key: quick benchmarks; or a cross-signed CA with its original key). */
  keyPair?: KeyPair;
  /** Default SHA-256. */
  hash?: SignatureHash;
  /** Issue as a CA (basicConstraints cA, keyCertSign). */
  isCa?: boolean;
  /** The issuing CA; omitted: self-signed. */
  issuer?: IssuedCertificate;
  /** AIA "CA Issuers" URL (where browsers fetch a missing intermediate). */
  caIssuersUrl?: string;
  /** Hex serial; default random. */
  serialNumber?: string;
}

/** A certificate with its key, in every form a test needs. */
export interface IssuedCertificate {
  spec: CertificateSpec;
  keyPair: KeyPair;
  pem: string;
  der: Buffer;
  /** Node's parsed form (fingerprints, validity, checkIssued). */
  x509: NodeX509Certificate;
  subject: string;
}

/** Generates a key pair. */
export async function generateKey(spec: KeySpec = { type: 'ec', curve: 'P-256' }): Promise<KeyPair> {
  const pair =
    spec.type === 'rsa'
      ? await generateKeyPairAsync('rsa', { modulusLength: spec.bits, publicExponent: 0x10001 })
      : await generateKeyPairAsync('ec', { namedCurve: spec.curve });
  const privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { spec, privateKey: pair.privateKey, publicKey: pair.publicKey, privateKeyPem };
}

function signingAlgorithm(
  spec: KeySpec,
  hash: SignatureHash,
): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams {
  return spec.type === 'rsa'
    ? { name: 'RSASSA-PKCS1-v1_5', hash }
    : ({ name: 'ECDSA', namedCurve: spec.curve, hash } as webcrypto.EcKeyImportParams);
}

function distinguishedName(spec: CertificateSpec): string {
  const escapeValue = (value: string) => value.replace(/([,+"\\<>;=])/g, '\\$1');
  const parts = [`CN=${escapeValue(spec.commonName)}`];
  if (spec.organization !== undefined) parts.push(`O=${escapeValue(spec.organization)}`);
  return parts.join(', ');
}

/** Issues a certificate (self-signed when `spec.issuer` is absent). */
export async function issueCertificate(spec: CertificateSpec): Promise<IssuedCertificate> {
  const keyPair = spec.keyPair ?? (await generateKey(spec.key));
  const hash = spec.hash ?? 'SHA-256';
  const notBefore = spec.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = spec.notAfter ?? new Date(notBefore.getTime() + 90 * 86_400_000);
  const signer = spec.issuer?.keyPair ?? keyPair;
  const algorithm = signingAlgorithm(signer.spec, hash);
  const signingKey = await signer.privateKey.toCryptoKey(algorithm, false, ['sign']);
  const publicKey = await keyPair.publicKey.toCryptoKey(signingAlgorithm(keyPair.spec, 'SHA-256'), true, [
    'verify',
  ]);
  const issuerPublicKey = await signer.publicKey.toCryptoKey(signingAlgorithm(signer.spec, 'SHA-256'), true, [
    'verify',
  ]);

  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(spec.isCa === true, undefined, true),
    new x509.KeyUsagesExtension(
      spec.isCa === true
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuerPublicKey),
  ];
  if (spec.isCa !== true) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
    );
  }
  if (spec.altNames && spec.altNames.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        spec.altNames.map((name) => ({ type: isIP(name) === 0 ? 'dns' : 'ip', value: name })),
      ),
    );
  }
  if (spec.caIssuersUrl !== undefined) {
    extensions.push(new x509.AuthorityInfoAccessExtension({ caIssuers: spec.caIssuersUrl }));
  }

  const subject = distinguishedName(spec);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: spec.serialNumber ?? `01${randomBytes(15).toString('hex')}`,
    subject,
    issuer: spec.issuer ? spec.issuer.subject : subject,
    notBefore,
    notAfter,
    signingAlgorithm: algorithm,
    publicKey,
    signingKey,
    extensions,
  });
  const der = Buffer.from(certificate.rawData);
  const parsed = new NodeX509Certificate(der);
  return { spec, keyPair, pem: parsed.toString(), der, x509: parsed, subject };
}

/** Shorthand: a self-signed root CA. */
export function createRootCa(
  commonName: string,
  options: Omit<CertificateSpec, 'commonName' | 'isCa' | 'issuer'> = {},
): Promise<IssuedCertificate> {
  return issueCertificate({
    notAfter: new Date(Date.now() + 10 * 365 * 86_400_000),
    ...options,
    commonName,
    isCa: true,
  });
}

/** Shorthand: an intermediate CA issued by `issuer`. */
export function createIntermediateCa(
  commonName: string,
  issuer: IssuedCertificate,
  options: Omit<CertificateSpec, 'commonName' | 'isCa' | 'issuer'> = {},
): Promise<IssuedCertificate> {
  return issueCertificate({
    notAfter: new Date(Date.now() + 5 * 365 * 86_400_000),
    ...options,
    commonName,
    isCa: true,
    issuer,
  });
}

/** Shorthand: a server certificate for `names` (the first is the CN), issued by `issuer`. */
export function createLeaf(
  names: readonly [string, ...string[]],
  issuer: IssuedCertificate | undefined,
  options: Omit<CertificateSpec, 'commonName' | 'issuer' | 'altNames'> = {},
): Promise<IssuedCertificate> {
  const spec: CertificateSpec = { ...options, commonName: names[0], altNames: names };
  if (issuer) spec.issuer = issuer;
  return issueCertificate(spec);
}

/** PEM bundle of certificates in the given order (leaf first for a served chain). */
export function pemBundle(certificates: readonly IssuedCertificate[]): string {
  return certificates.map((certificate) => certificate.pem).join('');
}

/** A ready-made private PKI: root → intermediate, for issuing leaves quickly. */
export interface TestPki {
  root: IssuedCertificate;
  intermediate: IssuedCertificate;
  /** Key reused for leaves that do not ask for their own (fast issuance). */
  leafKey: KeyPair;
  /** Issues a leaf under the intermediate. */
  leaf(
    names: readonly [string, ...string[]],
    options?: Omit<CertificateSpec, 'commonName' | 'issuer' | 'altNames'>,
  ): Promise<IssuedCertificate>;
  /** leaf + intermediate, the chain a correctly configured server sends. */
  chain(leaf: IssuedCertificate): IssuedCertificate[];
}

/** Creates a root and an intermediate named after `label`. */
export async function createTestPki(label = 'watchkeeper test'): Promise<TestPki> {
  const root = await createRootCa(`${label} Root CA`, { organization: label });
  const intermediate = await createIntermediateCa(`${label} Issuing CA 1`, root, { organization: label });
  const leafKey = await generateKey();
  return {
    root,
    intermediate,
    leafKey,
    leaf: (names, options = {}) =>
      createLeaf(names, intermediate, {
        ...(options.key === undefined && options.keyPair === undefined ? { keyPair: leafKey } : {}),
        ...options,
      }),
    chain: (leaf) => [leaf, intermediate],
  };
}
