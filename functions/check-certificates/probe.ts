/**
 * One probe: TCP to one address, the STARTTLS dialogue if any, and a TLS handshake with SNI =
 * the host name that never rejects, so an expired or untrusted certificate is still read and
 * classified afterwards instead of surfacing as "connection error". One fresh connection per
 * probe (a reused socket emits no secureConnect), one deadline for the whole probe.
 */
import { X509Certificate } from 'node:crypto';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import {
  createSecureContext,
  type DetailedPeerCertificate,
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls';
import {
  negotiateStartTls,
  type StartTlsDetails,
  StartTlsError,
  type StartTlsFailure,
} from '#shared/starttls/index.ts';
import type { EndpointProtocol } from './config.ts';
import { parseTls12Certificates, RecordingSocket } from './served-chain.ts';

/** What to probe. */
export interface ProbeTarget {
  address: string;
  port: number;
  protocol: EndpointProtocol;
  /** SNI (a host name; undefined when the endpoint is an IP literal: RFC 6066 forbids IP SNI). */
  servername: string | undefined;
  /** XMPP stream domain and similar: the configured host name. */
  domain: string;
  ehloName: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Negotiate at most TLS 1.2 and read the served chain from the wire (the plaintext Certificate
   * message) instead of Node's issuer walk; see served-chain.ts.
   */
  wireChain?: boolean;
}

/** A completed handshake and what it showed. */
export interface ProbeSuccess {
  status: 'connected';
  address: string;
  /** Served certificates in the order the server sent them, leaf first. */
  served: X509Certificate[];
  /** The leaf in the legacy form `tls.checkServerIdentity` takes. */
  peer: PeerCertificate;
  tlsVersion: string;
  cipher: string;
  /** Negotiated ALPN protocol (`h2`, `http/1.1`), false when none. */
  alpn: string | false;
  startTls?: StartTlsDetails;
  elapsedMs: number;
}

/** Why a probe did not reach a certificate. */
export type ProbeFailureKind =
  | 'timeout'
  | 'refused'
  | 'unreachable'
  /** This probe host has no route for the address family (no IPv6): not the endpoint's fault. */
  | 'no-route'
  | 'starttls'
  | 'handshake'
  | 'aborted';

/** A probe that ended before a certificate was read. */
export interface ProbeFailure {
  status: 'failed';
  address: string;
  kind: ProbeFailureKind;
  stage: 'connect' | 'starttls' | 'handshake';
  detail: string;
  startTlsReason?: StartTlsFailure;
  serverReply?: string;
}

/** Outcome of one probe. */
export type ProbeResult = ProbeSuccess | ProbeFailure;

/** Ports where TLS carries something other than HTTP: ALPN h2 would be meaningless (or refused) there. */
const NON_HTTP_TLS_PORTS: ReadonlySet<number> = new Set([
  465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 3269, 5223, 5061, 6697,
]);

let probeContext: SecureContext | undefined;
let wireChainContext: SecureContext | undefined;

/**
 * The client context every probe shares (built once: per-connection contexts cost CPU). It
 * accepts everything from TLS 1.0 and security level 0 so legacy servers, SHA-1 and 1024-bit keys
 * are seen and reported rather than failing the handshake, and it has an empty CA store so Node
 * appends no root from a store to the peer chain it reports.
 */
export function sharedProbeContext(): SecureContext {
  probeContext ??= createSecureContext({
    ca: [],
    ciphers: 'DEFAULT@SECLEVEL=0',
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.3',
  });
  return probeContext;
}

/** The same, capped at TLS 1.2: its Certificate message travels in plaintext. */
function wireProbeContext(): SecureContext {
  wireChainContext ??= createSecureContext({
    ca: [],
    ciphers: 'DEFAULT@SECLEVEL=0',
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.2',
  });
  return wireChainContext;
}

/** The served chain from the handshake, leaf first, each certificate once. */
export function servedChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  for (
    let current: DetailedPeerCertificate | undefined = peer;
    current?.raw;
    current = current.issuerCertificate
  ) {
    if (seen.has(current.fingerprint256)) break;
    seen.add(current.fingerprint256);
    chain.push(new X509Certificate(current.raw));
  }
  return chain;
}

/** Classifies a connect error; an IPv6 address without a local route is the probe host's problem. */
export function classifyConnectError(
  error: NodeJS.ErrnoException,
  address: string,
): { kind: ProbeFailureKind; detail: string } {
  const code = error.code ?? '';
  if (code === 'ECONNREFUSED')
    return {
      kind: 'refused',
      detail: 'connection refused (nothing listens on the port, or a firewall rejects)',
    };
  if (
    isIP(address) === 6 &&
    ['ENETUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT'].includes(code)
  ) {
    return { kind: 'no-route', detail: `this probe host has no IPv6 connectivity (${code})` };
  }
  if (['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET', 'EPIPE'].includes(code)) {
    return { kind: 'unreachable', detail: `${code}: ${error.message}` };
  }
  return { kind: 'unreachable', detail: error.message };
}

/** Probes one address; never throws for network outcomes. */
export function probeAddress(target: ProbeTarget): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise<ProbeResult>((resolve) => {
    let stage: ProbeFailure['stage'] = 'connect';
    let plain: Socket | undefined;
    let secure: TLSSocket | undefined;
    let settled = false;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      target.signal?.removeEventListener('abort', onAbort);
      secure?.destroy();
      plain?.destroy();
      resolve(result);
    };
    const fail = (kind: ProbeFailureKind, detail: string, extra: Partial<ProbeFailure> = {}): void =>
      finish({ status: 'failed', address: target.address, kind, stage, detail, ...extra });
    const timer = setTimeout(
      () =>
        fail(
          'timeout',
          `no ${stage === 'connect' ? 'connection' : stage === 'starttls' ? 'STARTTLS dialogue' : 'TLS handshake'} within ${target.timeoutMs / 1000} s`,
        ),
      target.timeoutMs,
    );
    const onAbort = (): void => fail('aborted', 'the run reached its deadline');
    if (target.signal?.aborted) {
      onAbort();
      return;
    }
    target.signal?.addEventListener('abort', onAbort, { once: true });

    const socket = netConnect({ host: target.address, port: target.port });
    plain = socket;
    // Errors after a hand-over to TLS are reported by the TLS socket; this keeps them from crashing.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (stage === 'connect') {
        const { kind, detail } = classifyConnectError(error, target.address);
        fail(kind, detail);
      }
    });
    socket.once('connect', () => {
      stage = target.protocol === 'tls' ? 'handshake' : 'starttls';
      const ready =
        target.protocol === 'tls'
          ? Promise.resolve({ socket, details: undefined })
          : negotiateStartTls(socket, target.protocol, { domain: target.domain, ehloName: target.ehloName });
      ready.then(
        ({ socket: upgraded, details }) => {
          if (settled) return;
          stage = 'handshake';
          handshake(upgraded, details);
        },
        (error: unknown) => {
          if (error instanceof StartTlsError) {
            fail('starttls', error.message, {
              startTlsReason: error.reason,
              ...(error.serverReply === undefined ? {} : { serverReply: error.serverReply.slice(0, 300) }),
            });
          } else {
            fail('starttls', error instanceof Error ? error.message : String(error));
          }
        },
      );
    });

    const handshake = (socket: Socket, details: StartTlsDetails | undefined): void => {
      const alpn = target.protocol === 'tls' && !NON_HTTP_TLS_PORTS.has(target.port);
      const recording = target.wireChain ? new RecordingSocket(socket) : undefined;
      secure = tlsConnect({
        socket: recording ?? socket,
        ...(target.servername === undefined ? {} : { servername: target.servername }),
        secureContext: target.wireChain ? wireProbeContext() : sharedProbeContext(),
        rejectUnauthorized: false,
        ...(alpn ? { ALPNProtocols: ['h2', 'http/1.1'] } : {}),
      });
      const tlsSocket = secure;
      tlsSocket.once('secureConnect', () => {
        const peer = tlsSocket.getPeerCertificate(true);
        if (!peer?.raw) {
          fail('handshake', 'the server completed the handshake without a certificate');
          return;
        }
        finish({
          status: 'connected',
          address: target.address,
          served: (recording && wireChain(recording.received, peer.fingerprint256)) ?? servedChain(peer),
          peer,
          tlsVersion: tlsSocket.getProtocol() ?? 'unknown',
          cipher: tlsSocket.getCipher()?.standardName ?? tlsSocket.getCipher()?.name ?? 'unknown',
          alpn: tlsSocket.alpnProtocol ?? false,
          ...(details ? { startTls: details } : {}),
          elapsedMs: Math.round(performance.now() - started),
        });
      });
      tlsSocket.on('error', (error: Error) => fail('handshake', describeTlsError(error)));
    };
  });
}

/** The wire chain when it parses and starts with the leaf the handshake reported. */
function wireChain(received: Buffer, leafFingerprint: string): X509Certificate[] | undefined {
  try {
    const certificates = parseTls12Certificates(received)?.map((der) => new X509Certificate(der));
    return certificates?.[0]?.fingerprint256 === leafFingerprint ? certificates : undefined;
  } catch {
    return undefined;
  }
}

/** Node's handshake errors, said plainly (the OpenSSL reason is kept). */
function describeTlsError(error: NodeJS.ErrnoException): string {
  // OpenSSL 3: "<hex>:error:<code>:SSL routines:<function>:<reason>:<file>:<line>:"
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(error.message) ?? /alert ([\w ]+)/.exec(error.message);
  if (reason?.[1]) return `TLS handshake failed: ${reason[1].trim()}`;
  if (error.code === 'ECONNRESET' || /socket disconnected/.test(error.message)) {
    return 'the server closed the connection during the TLS handshake';
  }
  return `TLS handshake failed: ${error.message}`;
}
