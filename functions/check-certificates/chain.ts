/**
 * The verified path, built here rather than taken from the handshake. Node exposes no "verified
 * chain": `getPeerCertificate(true)` is the served chain (an expired cross-certificate included),
 * and its own verification uses the real clock and stops at the first error. So the job connects
 * without verifying and builds leaf → intermediates → trusted root itself, with
 * `X509Certificate.checkIssued()` and signature checks, against Node's root store plus `caFile`.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { getCACertificates, rootCertificates } from 'node:tls';

/** Where a certificate on a path came from. */
export type CertificateSource = 'served' | 'trust-store' | 'ca-file' | 'aia';

/** Trust anchors and known intermediates. */
export interface TrustStore {
  anchors: readonly X509Certificate[];
  /** Non-self-signed certificates from caFile: usable to complete a path, never trusted themselves. */
  intermediates: readonly X509Certificate[];
  /** Fingerprints of anchors, for "is this served certificate a trusted root?". */
  anchorFingerprints: ReadonlySet<string>;
  anchorsBySubject: ReadonlyMap<string, readonly X509Certificate[]>;
}

/** Splits a PEM bundle into certificates (other blocks, such as keys, are ignored). */
export function parsePemBundle(text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

let systemAnchors: X509Certificate[] | undefined;

/** Node's default CA certificates (bundled roots plus NODE_EXTRA_CA_CERTS), parsed once per process. */
export function systemTrustAnchors(): X509Certificate[] {
  // getCACertificates('default') also honours --use-system-ca and NODE_EXTRA_CA_CERTS.
  systemAnchors ??= (
    typeof getCACertificates === 'function' ? getCACertificates('default') : rootCertificates
  ).map((pem) => new X509Certificate(pem));
  return systemAnchors;
}

/** Whether a certificate is self-issued and verifies with its own key. */
export function isSelfSigned(certificate: X509Certificate): boolean {
  // Not checkIssued(): it also demands keyCertSign, which many self-signed server certificates lack.
  if (certificate.subject !== certificate.issuer) return false;
  try {
    return certificate.verify(certificate.publicKey);
  } catch {
    return false;
  }
}

/** Builds a trust store from the system roots (optional) and extra PEM texts. */
export function createTrustStore(options: {
  systemRoots: boolean;
  extraPem?: readonly string[];
}): TrustStore {
  const anchors: X509Certificate[] = options.systemRoots ? [...systemTrustAnchors()] : [];
  const intermediates: X509Certificate[] = [];
  for (const text of options.extraPem ?? []) {
    for (const certificate of parsePemBundle(text)) {
      (isSelfSigned(certificate) ? anchors : intermediates).push(certificate);
    }
  }
  const anchorsBySubject = new Map<string, X509Certificate[]>();
  for (const anchor of anchors) {
    const list = anchorsBySubject.get(anchor.subject) ?? [];
    list.push(anchor);
    anchorsBySubject.set(anchor.subject, list);
  }
  return {
    anchors,
    intermediates,
    anchorFingerprints: new Set(anchors.map((anchor) => anchor.fingerprint256)),
    anchorsBySubject,
  };
}

/** Reads caFile(s); a file without any certificate is a configuration error worth failing on. */
export async function loadTrustStore(options: {
  systemRoots: boolean;
  caFiles?: readonly string[];
}): Promise<TrustStore> {
  const extraPem: string[] = [];
  for (const file of options.caFiles ?? []) {
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`caFile "${file}" cannot be read: ${error.code ?? error.message}`, { cause: error });
    });
    if (parsePemBundle(text).length === 0) throw new Error(`caFile "${file}" holds no PEM certificate`);
    extraPem.push(text);
  }
  return createTrustStore({ systemRoots: options.systemRoots, extraPem });
}

/** A candidate path from the leaf upwards. */
export interface CertificatePath {
  certificates: X509Certificate[];
  sources: CertificateSource[];
  /** Ends at a trust anchor. */
  trusted: boolean;
}

/** True when `child` names `parent` as issuer (names, key identifiers, key usage) and its signature verifies. */
export function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    // An unsupported or malformed key cannot have signed anything we can verify.
    return false;
  }
}

const MAX_DEPTH = 8;

/**
 * Every path from `served[0]` upwards through served certificates, `extraIssuers` (caFile
 * intermediates, AIA downloads) and trust anchors. Bounded depth; cycles are cut.
 */
export function enumeratePaths(
  served: readonly X509Certificate[],
  store: TrustStore,
  extraIssuers: readonly { certificate: X509Certificate; source: CertificateSource }[] = [],
): CertificatePath[] {
  const [leaf] = served;
  if (!leaf) return [];
  const paths: CertificatePath[] = [];
  const pool = [
    ...served.slice(1).map((certificate) => ({ certificate, source: 'served' as CertificateSource })),
    ...store.intermediates.map((certificate) => ({ certificate, source: 'ca-file' as CertificateSource })),
    ...extraIssuers,
  ];
  const walk = (certificates: X509Certificate[], sources: CertificateSource[]): void => {
    const current = certificates[certificates.length - 1] as X509Certificate;
    if (store.anchorFingerprints.has(current.fingerprint256)) {
      // The server sent a trusted root (or the leaf is one): the path ends there.
      paths.push({ certificates, sources, trusted: true });
      return;
    }
    let extended = false;
    for (const anchor of store.anchorsBySubject.get(current.issuer) ?? []) {
      if (issuedBy(current, anchor)) {
        paths.push({
          certificates: [...certificates, anchor],
          sources: [...sources, 'trust-store'],
          trusted: true,
        });
        extended = true;
      }
    }
    if (
      certificates.length < MAX_DEPTH &&
      !(current.subject === current.issuer && issuedBy(current, current))
    ) {
      const seen = new Set(certificates.map((certificate) => certificate.fingerprint256));
      for (const candidate of pool) {
        if (seen.has(candidate.certificate.fingerprint256)) continue;
        if (candidate.certificate.subject !== current.issuer || !issuedBy(current, candidate.certificate))
          continue;
        seen.add(candidate.certificate.fingerprint256);
        walk([...certificates, candidate.certificate], [...sources, candidate.source]);
        extended = true;
      }
    }
    if (!extended) paths.push({ certificates, sources, trusted: false });
  };
  walk([leaf], ['served']);
  return paths;
}

function validAt(certificate: X509Certificate, now: Date): boolean {
  return new Date(certificate.validFrom) <= now && now <= new Date(certificate.validTo);
}

function earliestExpiry(path: CertificatePath): number {
  return Math.min(...path.certificates.map((certificate) => new Date(certificate.validTo).getTime()));
}

/**
 * The path a client would use: trusted first; then every certificate valid now; then the latest
 * "earliest expiry" (blackbox_exporter's last-chain-expiry rule); then fewest certificates the
 * server did not send; then the shortest.
 */
export function bestPath(paths: readonly CertificatePath[], now: Date): CertificatePath | undefined {
  const notServed = (path: CertificatePath) =>
    path.sources.filter((source) => source === 'ca-file' || source === 'aia').length;
  return [...paths].sort(
    (a, b) =>
      Number(b.trusted) - Number(a.trusted) ||
      Number(b.certificates.every((c) => validAt(c, now))) -
        Number(a.certificates.every((c) => validAt(c, now))) ||
      earliestExpiry(b) - earliestExpiry(a) ||
      notServed(a) - notServed(b) ||
      // Untrusted: the longest path tells most about where trust broke.
      (a.trusted
        ? a.certificates.length - b.certificates.length
        : b.certificates.length - a.certificates.length),
  )[0];
}

/** The AIA "CA Issuers" URLs of a certificate (http only: that is what CAs publish and browsers fetch). */
export function caIssuersUrls(certificate: X509Certificate): string[] {
  const access = certificate.infoAccess ?? '';
  return [...access.matchAll(/CA Issuers - URI:(http:\/\/\S+)/g)].map((match) => match[1] as string);
}

/** Parses a downloaded issuer certificate: DER, or PEM (some CAs serve that). PKCS#7 is not supported. */
export function parseIssuerDownload(body: Buffer): X509Certificate | undefined {
  try {
    const text = body.subarray(0, 40).toString('latin1');
    if (text.includes('-----BEGIN CERTIFICATE-----')) return parsePemBundle(body.toString('latin1'))[0];
    return new X509Certificate(body);
  } catch {
    return undefined;
  }
}

/** Downloads issuer certificates by URL; injected so tests use a loopback HTTP server. */
export type IssuerFetcher = (url: string) => Promise<X509Certificate | undefined>;

/** An IssuerFetcher over HTTP with a timeout, a size limit and a per-run cache. */
export function httpIssuerFetcher(timeoutMs: number, signal?: AbortSignal): IssuerFetcher {
  const cache = new Map<string, Promise<X509Certificate | undefined>>();
  return (url) => {
    let pending = cache.get(url);
    if (!pending) {
      pending = (async () => {
        try {
          const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
          const response = await fetch(url, { signal: AbortSignal.any(signals), redirect: 'follow' });
          if (!response.ok) return undefined;
          const body = Buffer.from(await response.arrayBuffer());
          return body.length > 64 * 1024 ? undefined : parseIssuerDownload(body);
        } catch {
          return undefined;
        }
      })();
      cache.set(url, pending);
    }
    return pending;
  };
}

/** The verified (or best untrusted) path, after fetching missing issuers over AIA when allowed. */
export async function verifyPath(
  served: readonly X509Certificate[],
  store: TrustStore,
  now: Date,
  fetchIssuer?: IssuerFetcher,
): Promise<CertificatePath | undefined> {
  const downloaded: { certificate: X509Certificate; source: CertificateSource }[] = [];
  let best = bestPath(enumeratePaths(served, store), now);
  // Up to three hops (leaf → intermediate → cross-sign) the way browsers chase AIA.
  for (let hop = 0; hop < 3 && fetchIssuer && best && !best.trusted; hop += 1) {
    const top = best.certificates[best.certificates.length - 1] as X509Certificate;
    if (top.subject === top.issuer) break;
    const fetched: X509Certificate[] = [];
    for (const url of caIssuersUrls(top)) {
      const certificate = await fetchIssuer(url);
      if (certificate) fetched.push(certificate);
    }
    if (fetched.length === 0) break;
    downloaded.push(...fetched.map((certificate) => ({ certificate, source: 'aia' as CertificateSource })));
    best = bestPath(enumeratePaths(served, store, downloaded), now);
  }
  return best;
}
