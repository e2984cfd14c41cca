/**
 * Turns one probe into issues: expiry of the leaf, trust (self-signed / untrusted / incomplete
 * chain), host name, the verified path's own expiry, served certificates that are not on the
 * path, weak signatures and keys, legacy TLS, the MySQL CN clash — or why no certificate was seen.
 * Pure apart from the AIA fetcher it is given; the clock is `now`.
 */
import type { X509Certificate } from 'node:crypto';
import { checkServerIdentity } from 'node:tls';
import type { Severity } from '#shared/findings.ts';
import {
  type CertificatePath,
  type IssuerFetcher,
  isSelfSigned,
  type TrustStore,
  verifyPath,
} from './chain.ts';
import type { EndpointProtocol, Thresholds } from './config.ts';
import { assessExpiry, describeExpiry, type ExpiryAssessment, humanDuration } from './expiry.ts';
import { commonName, issuerName, keyStrength, signatureAlgorithm, WEAK_HASHES } from './facts.ts';
import type { ProbeFailure, ProbeResult, ProbeSuccess } from './probe.ts';

/** One problem (or failure) seen on one address. `describe` fills in where it was seen. */
export interface AddressIssue {
  code: string;
  severity: Severity;
  describe: (where: string) => string;
  data: Record<string, unknown>;
}

/** Key facts of a successful probe, for the ok finding and for divergence. */
export interface LeafFacts {
  subject: string;
  issuer: string;
  fingerprint256: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  expiry: ExpiryAssessment;
  /** Earliest notAfter on the verified path (the date the chain as a whole stops working). */
  pathExpiry: string | undefined;
  trusted: boolean;
  tls: { version: string; cipher: string; alpn: string | false };
}

/** Everything learnt about one address. */
export interface AddressAssessment {
  address: string;
  issues: AddressIssue[];
  leaf?: LeafFacts;
  /** True when the probe was cut by the run's deadline (reported as not reached, not as a finding). */
  aborted?: boolean;
}

/** What classification needs besides the probe. */
export interface AssessContext {
  now: Date;
  thresholds: Thresholds;
  trust: TrustStore;
  /** Name the certificate must be valid for: servername, else host (an IP literal is checked against IP SANs). */
  expectedName: string;
  protocol: EndpointProtocol;
  port: number;
  inLambda: boolean;
  timeoutSeconds: number;
  failureSeverity: Severity;
  fetchIssuer?: IssuerFetcher;
  /** MySQL: the client certificate the applications present. */
  clientCertificate?: X509Certificate;
}

const LEGACY_TLS: ReadonlySet<string> = new Set(['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1']);

function quoted(certificate: X509Certificate): string {
  return `"${commonName(certificate)}"`;
}

function expirySeverity(expiry: ExpiryAssessment): Severity {
  return expiry.state === 'warning' ? 'warning' : expiry.state === 'ok' ? 'ok' : 'critical';
}

function certificateData(certificate: X509Certificate): Record<string, unknown> {
  return {
    subject: commonName(certificate),
    issuer: issuerName(certificate),
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: new Date(certificate.validTo).toISOString(),
    fingerprint256: certificate.fingerprint256,
  };
}

/** Classifies a probe result. */
export async function assessProbe(result: ProbeResult, context: AssessContext): Promise<AddressAssessment> {
  if (result.status === 'failed') {
    if (result.kind === 'aborted') return { address: result.address, issues: [], aborted: true };
    return { address: result.address, issues: [failureIssue(result, context)] };
  }
  return assessCertificate(result, context);
}

function failureIssue(failure: ProbeFailure, context: AssessContext): AddressIssue {
  const data: Record<string, unknown> = {
    stage: failure.stage,
    reason: failure.kind,
    detail: failure.detail,
    ...(failure.serverReply === undefined ? {} : { serverReply: failure.serverReply }),
  };
  switch (failure.kind) {
    case 'timeout': {
      const lambda25 =
        context.inLambda && context.port === 25
          ? ' AWS blocks outbound TCP port 25 from Lambda: probe the submission port 587 or 465 instead, or run this check with the CLI from a host that may use port 25.'
          : '';
      return {
        code: 'endpoint.timeout',
        severity: context.failureSeverity,
        describe: (where) =>
          `${where}: ${failure.detail}, so its certificate could not be checked.${lambda25}`,
        data: {
          ...data,
          timeoutSeconds: context.timeoutSeconds,
          ...(lambda25 ? { lambdaPort25Blocked: true } : {}),
        },
      };
    }
    case 'refused':
      return {
        code: 'endpoint.unreachable',
        severity: context.failureSeverity,
        describe: (where) => `${where} refused the connection, so its certificate could not be checked.`,
        data,
      };
    case 'no-route':
      // The probe's own network, not the endpoint: never more than "could not tell".
      return {
        code: 'endpoint.unreachable',
        severity: 'unknown',
        describe: (where) =>
          `${where} was not checked: this probe host has no IPv6 connectivity (not a fault of the endpoint).`,
        data: { ...data, probeSide: true },
      };
    case 'unreachable':
      return {
        code: 'endpoint.unreachable',
        severity: context.failureSeverity,
        describe: (where) =>
          `${where} is unreachable (${failure.detail}), so its certificate could not be checked.`,
        data,
      };
    case 'starttls': {
      const severity: Severity =
        failure.startTlsReason === 'closed'
          ? context.failureSeverity
          : failure.startTlsReason === 'protocol'
            ? 'warning'
            : 'critical';
      return {
        code: 'endpoint.starttls-failed',
        severity,
        describe: (where) => `${where}: STARTTLS over ${context.protocol} failed: ${failure.detail}.`,
        data: { ...data, protocol: context.protocol, startTlsReason: failure.startTlsReason },
      };
    }
    default:
      return {
        code: 'endpoint.handshake-failed',
        severity: 'critical',
        describe: (where) => `${where}: ${failure.detail}; clients cannot connect securely.`,
        data,
      };
  }
}

async function assessCertificate(probe: ProbeSuccess, context: AssessContext): Promise<AddressAssessment> {
  const [leaf] = probe.served;
  if (!leaf) throw new Error('a successful probe always has a leaf certificate');
  const issues: AddressIssue[] = [];
  const tls = { version: probe.tlsVersion, cipher: probe.cipher, alpn: probe.alpn };
  const base = { tls, leaf: certificateData(leaf), ...(probe.startTls ? { startTls: probe.startTls } : {}) };
  const add = (
    code: string,
    severity: Severity,
    describe: (where: string) => string,
    data: Record<string, unknown> = {},
  ) => issues.push({ code, severity, describe, data: { ...base, ...data } });

  // 1. Leaf validity period, always from the certificate itself (never hidden by a failed verification).
  const expiry = assessExpiry(
    new Date(leaf.validFrom),
    new Date(leaf.validTo),
    context.now,
    context.thresholds,
  );
  const expiryData = {
    notAfter: expiry.notAfter,
    notBefore: expiry.notBefore,
    daysLeft: expiry.daysLeft,
    thresholdDays: {
      warning: Math.round((expiry.warningSeconds / 86_400) * 100) / 100,
      critical: Math.round((expiry.criticalSeconds / 86_400) * 100) / 100,
    },
  };
  if (expiry.state === 'expired') {
    add(
      'certificate.expired',
      'critical',
      (where) => `The certificate of ${where} ${describeExpiry(expiry)}.`,
      expiryData,
    );
  } else if (expiry.state === 'not-yet-valid') {
    add(
      'certificate.not-yet-valid',
      'critical',
      (where) =>
        `The certificate of ${where} ${describeExpiry(expiry)}: it was deployed too early, or a clock is wrong.`,
      expiryData,
    );
  } else if (expiry.state !== 'ok') {
    add(
      'certificate.expiring',
      expirySeverity(expiry),
      (where) => `The certificate of ${where} ${describeExpiry(expiry)}.`,
      expiryData,
    );
  }

  // 2. Host name, as tls.checkServerIdentity judges it (wildcards, IP SANs, CN fallback).
  const identityError = checkServerIdentity(context.expectedName, probe.peer);
  if (identityError) {
    add(
      'certificate.hostname-mismatch',
      'critical',
      (where) =>
        `The certificate of ${where} is not valid for ${context.expectedName} (it names ${leaf.subjectAltName ?? `only CN ${commonName(leaf)}`}).`,
      {
        expectedName: context.expectedName,
        subjectAltName: leaf.subjectAltName ?? null,
        reason: identityError.message,
      },
    );
  }

  // 3. Trust: the path a client would build.
  const path = await verifyPath(probe.served, context.trust, context.now, context.fetchIssuer);
  const pathCertificates = path?.certificates ?? [leaf];
  const pathData = path ? describePath(path) : [];
  if (path && !path.trusted) {
    const top = path.certificates[path.certificates.length - 1] as X509Certificate;
    if (path.certificates.length === 1 && isSelfSigned(leaf)) {
      add(
        'certificate.self-signed',
        'critical',
        (where) =>
          `${where} serves a self-signed certificate (${quoted(leaf)}) that clients do not trust; if it is your own CA's, add it to caFile.`,
        { path: pathData },
      );
    } else if (path.certificates.length === 1) {
      // The leaf's issuer is neither sent nor trusted: public CAs never issue from the root, so
      // the server left out (or mixed up) its intermediate.
      const sentOthers = probe.served.length > 1;
      add(
        'certificate.incomplete-chain',
        'critical',
        (where) =>
          `${where} ${sentOthers ? 'does not send' : 'sends only its leaf certificate, without'} the intermediate "${issuerName(leaf)}"${
            sentOthers ? ' that issued its certificate (it sends other certificates instead)' : ''
          }: browsers may fetch it, but curl, Java, Node and mail servers fail to verify.`,
        { path: pathData, missingIssuer: issuerName(leaf) },
      );
    } else {
      const selfSignedTop = isSelfSigned(top);
      add(
        'certificate.untrusted',
        'critical',
        (where) =>
          selfSignedTop
            ? `${where} serves a chain that ends at ${quoted(top)}, a root that is not trusted (add it to caFile if it is your private CA).`
            : `${where} serves a chain whose top certificate ${quoted(top)} was issued by "${issuerName(top)}", which is neither sent nor trusted.`,
        { path: pathData, untrustedRoot: commonName(top) },
      );
    }
  } else if (path) {
    const missing = path.certificates.filter(
      (_, index) => path.sources[index] === 'ca-file' || path.sources[index] === 'aia',
    );
    if (missing.length > 0) {
      add(
        'certificate.incomplete-chain',
        'critical',
        (where) =>
          `${where} does not send the intermediate ${missing.map(quoted).join(', ')}: browsers fetch it, but curl, Java, Node and mail servers fail to verify.`,
        { path: pathData, missingIntermediates: missing.map((certificate) => commonName(certificate)) },
      );
    }
  }

  // 4. The rest of the verified path expires too (an intermediate can expire before the leaf).
  // Absolute thresholds only: a CA certificate's lifetime says nothing about when it is replaced.
  const chainThresholds = { ...context.thresholds, warnFraction: 1, criticalFraction: 1 };
  pathCertificates.slice(1).forEach((certificate, offset) => {
    const state = assessExpiry(
      new Date(certificate.validFrom),
      new Date(certificate.validTo),
      context.now,
      chainThresholds,
    );
    if (state.state === 'ok') return;
    const role =
      path?.sources[offset + 1] === 'trust-store' || isSelfSigned(certificate) ? 'root' : 'intermediate';
    add(
      'certificate.chain-expiring',
      expirySeverity(state),
      (where) =>
        state.state === 'expired'
          ? `The ${role} ${quoted(certificate)} on the verified path of ${where} ${describeExpiry(state)}: clients cannot verify the chain.`
          : `The ${role} ${quoted(certificate)} on the verified path of ${where} ${describeExpiry(state)}${
              state.notAfter < expiry.notAfter
                ? ', before the leaf: the chain breaks then unless the server gets a new chain'
                : ''
            }.`,
      { chainCertificate: certificateData(certificate), daysLeft: state.daysLeft },
    );
  });

  // 5. Served certificates a client does not use: expired ones are the AddTrust / DST Root X3 false alarms.
  const onPath = new Set(pathCertificates.map((certificate) => certificate.fingerprint256));
  const seen = new Set<string>();
  for (const certificate of probe.served.slice(1)) {
    if (seen.has(certificate.fingerprint256)) continue;
    seen.add(certificate.fingerprint256);
    if (onPath.has(certificate.fingerprint256)) continue;
    const expired = new Date(certificate.validTo) < context.now;
    add(
      'certificate.served-chain-anomaly',
      expired ? 'warning' : 'info',
      (where) =>
        expired
          ? `${where} also sends ${quoted(certificate)}, which expired ${humanDuration((new Date(certificate.validTo).getTime() - context.now.getTime()) / 1000)} ago and is not on the verified path: clients ignore it, but old ones may fail; remove it from the served chain.`
          : `${where} sends ${quoted(certificate)}, which is not needed to reach a trusted root; it can be removed from the served chain.`,
      { servedCertificate: certificateData(certificate), expired },
    );
  }

  // 6. Cryptographic strength of what clients verify (a root's self-signature is never checked).
  for (const certificate of pathCertificates) {
    if (!isSelfSigned(certificate)) {
      const signature = signatureAlgorithm(certificate);
      if (WEAK_HASHES.has(signature.hash)) {
        add(
          'certificate.weak-signature',
          'critical',
          (where) =>
            `The certificate ${quoted(certificate)} served by ${where} is signed with ${signature.hash} (${signature.name}), which clients reject.`,
          {
            certificate: certificateData(certificate),
            signatureAlgorithm: signature.name,
            hash: signature.hash,
          },
        );
      }
    }
    const key = keyStrength(certificate);
    if (key.weak) {
      add(
        'certificate.weak-key',
        'critical',
        (where) =>
          `The certificate ${quoted(certificate)} of ${where} has a ${key.bits}-bit ${key.type.toUpperCase()} key; clients require at least ${key.type === 'ec' ? '256' : '2048'} bits.`,
        { certificate: certificateData(certificate), keyType: key.type, keyBits: key.bits },
      );
    }
  }

  // 7. Protocol: the client offered everything from TLS 1.0, so this is the best the server does.
  if (LEGACY_TLS.has(probe.tlsVersion)) {
    add(
      'certificate.legacy-tls',
      'critical',
      (where) => `${where} offers at best ${probe.tlsVersion}; current clients require TLS 1.2 or newer.`,
      {},
    );
  }

  // 8. MySQL: a client certificate with the server's CN makes the client's verification fail.
  if (context.clientCertificate && commonName(context.clientCertificate) === commonName(leaf)) {
    const cn = commonName(leaf);
    add(
      'certificate.mysql-cn-clash',
      'critical',
      (where) =>
        `The client certificate and the server certificate of ${where} share the CN "${cn}": MySQL clients then fail with "ERROR 2026 (HY000): SSL connection error"; reissue one of them with a different CN.`,
      { commonName: cn, clientCertificate: certificateData(context.clientCertificate) },
    );
  }

  const pathExpiry = pathCertificates.length
    ? new Date(
        Math.min(...pathCertificates.map((certificate) => new Date(certificate.validTo).getTime())),
      ).toISOString()
    : undefined;
  return {
    address: probe.address,
    issues,
    leaf: {
      subject: commonName(leaf),
      issuer: issuerName(leaf),
      fingerprint256: leaf.fingerprint256,
      serialNumber: leaf.serialNumber,
      notBefore: expiry.notBefore,
      notAfter: expiry.notAfter,
      daysLeft: expiry.daysLeft,
      expiry,
      pathExpiry,
      trusted: path?.trusted ?? false,
      tls,
    },
  };
}

function describePath(path: CertificatePath): { subject: string; source: string; notAfter: string }[] {
  return path.certificates.map((certificate, index) => ({
    subject: commonName(certificate),
    source: path.sources[index] ?? 'served',
    notAfter: new Date(certificate.validTo).toISOString(),
  }));
}
