/**
 * The one DNS client of watchkeeper (check-dns, check-blocklists, check-certificates and
 * check-mail-servers all use it). It speaks DNS itself (dns-packet over UDP, TCP when truncated)
 * rather than going through getaddrinfo or c-ares, because the jobs need what those hide: the
 * response code (NXDOMAIN vs NODATA vs SERVFAIL vs REFUSED), TTLs, the AA flag, and the ability to
 * ask one particular server (an authoritative NS, a local test resolver on a high port).
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { getServers } from 'node:dns';
import { connect } from 'node:net';
import * as packet from 'dns-packet';
import { type DnsServer, parseDnsServer } from '../config/fields.ts';

/** Record types the jobs query. */
export type DnsRecordType = 'A' | 'AAAA' | 'MX' | 'NS' | 'TXT' | 'CNAME' | 'CAA' | 'PTR' | 'SOA';

/** Typed record data, by type. */
export type DnsRecordData =
  | { type: 'A' | 'AAAA' | 'NS' | 'CNAME' | 'PTR'; value: string }
  | { type: 'MX'; preference: number; exchange: string }
  | { type: 'TXT'; value: string }
  | { type: 'CAA'; flags: number; tag: string; value: string }
  | { type: 'SOA'; mname: string; rname: string; serial: number; minimum: number };

/** One record of an answer. */
export type DnsRecord = DnsRecordData & { name: string; ttl: number };

/** Why a query produced no usable answer. `unknown` to every job: never "missing", never "clean". */
export type DnsFailureReason =
  | 'servfail'
  | 'refused'
  | 'timeout'
  | 'formerr'
  | 'notimp'
  | 'network'
  | 'other';

/** What a query established. NXDOMAIN and NODATA are answers; failures are not. */
export type DnsOutcome =
  | { status: 'answer'; records: DnsRecord[]; authoritative: boolean; server: string }
  | { status: 'nxdomain'; authoritative: boolean; server: string }
  | { status: 'nodata'; authoritative: boolean; server: string }
  | { status: 'failed'; reason: DnsFailureReason; detail: string; server: string };

/** Options of a client. */
export interface DnsClientOptions {
  /** Servers as `ip`, `ip:port` or `[v6]:port`; the system's (from /etc/resolv.conf) when empty. */
  servers?: readonly string[] | undefined;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  /** Further attempts after a timeout, SERVFAIL or network error (rotating through the servers). */
  retries?: number;
  /** Ask for recursion (off when asking authoritative servers directly). */
  recursionDesired?: boolean;
}

/** Counters for a job's `stats`. */
export interface DnsClientStats {
  queries: number;
  attempts: number;
  timeouts: number;
}

const RETRYABLE: ReadonlySet<DnsFailureReason> = new Set(['timeout', 'servfail', 'network']);
const UDP_PAYLOAD_SIZE = 1232;

/** A DNS stub client bound to a list of servers. */
export class DnsClient {
  readonly servers: readonly DnsServer[];
  readonly stats: DnsClientStats = { queries: 0, attempts: 0, timeouts: 0 };
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #recursionDesired: boolean;

  constructor(options: DnsClientOptions = {}) {
    const configured = options.servers && options.servers.length > 0 ? options.servers : getServers();
    this.servers = configured.map((text) => {
      const server = parseDnsServer(text);
      if (!server) throw new TypeError(`DNS server "${text}" is not an IP address with an optional port`);
      return server;
    });
    if (this.servers.length === 0)
      throw new TypeError('no DNS server configured and none found in the system');
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#retries = options.retries ?? 1;
    this.#recursionDesired = options.recursionDesired ?? true;
  }

  /** Asks for `type` records of `name`; never throws for DNS-level failures. */
  async query(name: string, type: DnsRecordType): Promise<DnsOutcome> {
    this.stats.queries += 1;
    let last: DnsOutcome | undefined;
    for (let attempt = 0; attempt <= this.#retries; attempt += 1) {
      const server = this.servers[attempt % this.servers.length] as DnsServer;
      last = await this.#attempt(server, name, type);
      if (last.status !== 'failed' || !RETRYABLE.has(last.reason)) return last;
    }
    return last as DnsOutcome;
  }

  async #attempt(server: DnsServer, name: string, type: DnsRecordType): Promise<DnsOutcome> {
    this.stats.attempts += 1;
    const label = formatServer(server);
    const id = randomInt(0, 0x10000);
    const query = packet.encode({
      type: 'query',
      id,
      flags: this.#recursionDesired ? packet.RECURSION_DESIRED : 0,
      questions: [{ type, name: trimDot(name), class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: UDP_PAYLOAD_SIZE } as packet.Answer],
    });
    try {
      let response = await exchangeUdp(server, query, id, this.#timeoutMs);
      if (response.flag_tc) response = await exchangeTcp(server, query, id, this.#timeoutMs);
      return interpret(response, name, type, label);
    } catch (error) {
      if (error instanceof DnsTimeoutError) {
        this.stats.timeouts += 1;
        return {
          status: 'failed',
          reason: 'timeout',
          detail: `no answer from ${label} within ${this.#timeoutMs} ms`,
          server: label,
        };
      }
      const message = error instanceof Error ? error.message : String(error);
      return { status: 'failed', reason: 'network', detail: `${label}: ${message}`, server: label };
    }
  }
}

class DnsTimeoutError extends Error {
  constructor() {
    super('DNS query timed out');
    this.name = 'DnsTimeoutError';
  }
}

function exchangeUdp(
  server: DnsServer,
  query: Buffer,
  id: number,
  timeoutMs: number,
): Promise<packet.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(new DnsTimeoutError()), timeoutMs);
    function finish(error: Error | undefined, response?: packet.DecodedPacket): void {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(response as packet.DecodedPacket);
    }
    socket.on('error', (error) => finish(error));
    socket.on('message', (message, remote) => {
      // Ignore anything that is not the answer to this query from this server (spoofing, strays).
      if (remote.port !== server.port) return;
      let decoded: packet.DecodedPacket;
      try {
        decoded = packet.decode(message);
      } catch {
        return;
      }
      if (decoded.id === id && decoded.type === 'response') finish(undefined, decoded);
    });
    socket.send(query, server.port, server.host, (error) => {
      if (error) finish(error);
    });
  });
}

function exchangeTcp(
  server: DnsServer,
  query: Buffer,
  id: number,
  timeoutMs: number,
): Promise<packet.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port });
    const timer = setTimeout(() => finish(new DnsTimeoutError()), timeoutMs);
    let buffer = Buffer.alloc(0);
    function finish(error: Error | undefined, response?: packet.DecodedPacket): void {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(response as packet.DecodedPacket);
    }
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 2) return;
      const size = buffer.readUInt16BE(0);
      if (buffer.length < size + 2) return;
      try {
        const decoded = packet.decode(buffer.subarray(2, size + 2));
        if (decoded.id !== id) finish(new Error('TCP answer with a different id'));
        else finish(undefined, decoded);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('end', () => finish(new Error('connection closed before a complete answer')));
  });
}

function interpret(
  response: packet.DecodedPacket,
  name: string,
  type: DnsRecordType,
  server: string,
): DnsOutcome {
  const rcode = (response as packet.DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
  const authoritative = response.flag_aa;
  switch (rcode) {
    case 'NOERROR':
      break;
    case 'NXDOMAIN':
      return { status: 'nxdomain', authoritative, server };
    case 'SERVFAIL':
      return {
        status: 'failed',
        reason: 'servfail',
        detail: `${server} answered SERVFAIL for ${name} ${type}`,
        server,
      };
    case 'REFUSED':
      return {
        status: 'failed',
        reason: 'refused',
        detail: `${server} refused the query for ${name} ${type}`,
        server,
      };
    case 'FORMERR':
      return {
        status: 'failed',
        reason: 'formerr',
        detail: `${server} answered FORMERR for ${name} ${type}`,
        server,
      };
    case 'NOTIMP':
      return {
        status: 'failed',
        reason: 'notimp',
        detail: `${server} does not implement ${type} queries`,
        server,
      };
    default:
      return {
        status: 'failed',
        reason: 'other',
        detail: `${server} answered ${rcode} for ${name} ${type}`,
        server,
      };
  }
  const records: DnsRecord[] = [];
  for (const answer of response.answers ?? []) {
    const record = toRecord(answer);
    // A recursive resolver puts the CNAME chain first; only records of the asked type answer it.
    if (record && record.type === type) records.push(record);
  }
  if (records.length === 0) return { status: 'nodata', authoritative, server };
  return { status: 'answer', records, authoritative, server };
}

function toRecord(answer: packet.Answer): DnsRecord | undefined {
  const base = { name: trimDot(answer.name).toLowerCase(), ttl: 'ttl' in answer ? (answer.ttl ?? 0) : 0 };
  switch (answer.type) {
    case 'A':
    case 'AAAA':
      return { ...base, type: answer.type, value: answer.data };
    case 'NS':
    case 'CNAME':
    case 'PTR':
      return { ...base, type: answer.type, value: trimDot(answer.data).toLowerCase() };
    case 'MX':
      return {
        ...base,
        type: 'MX',
        preference: answer.data.preference ?? 0,
        exchange: trimDot(answer.data.exchange).toLowerCase(),
      };
    case 'TXT': {
      const chunks = Array.isArray(answer.data) ? answer.data : [answer.data];
      return { ...base, type: 'TXT', value: chunks.map((chunk) => chunk.toString()).join('') };
    }
    case 'CAA':
      return {
        ...base,
        type: 'CAA',
        flags: answer.data.flags ?? 0,
        tag: answer.data.tag,
        value: answer.data.value,
      };
    case 'SOA':
      return {
        ...base,
        type: 'SOA',
        mname: trimDot(answer.data.mname).toLowerCase(),
        rname: trimDot(answer.data.rname).toLowerCase(),
        serial: answer.data.serial ?? 0,
        minimum: answer.data.minimum ?? 0,
      };
    default:
      return undefined;
  }
}

/** `name.` → `name`; DNS names compare without the root dot. */
export function trimDot(name: string): string {
  return name.endsWith('.') && name.length > 1 ? name.slice(0, -1) : name;
}

/** `ip:port` or `[v6]:port` for messages. */
export function formatServer(server: DnsServer): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}
