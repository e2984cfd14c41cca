/**
 * A small authoritative DNS server for tests and the demo: it answers real DNS queries over UDP and
 * TCP on a loopback port from records given as data, and can be told to misbehave per name
 * (SERVFAIL, REFUSED, silence) so jobs can be shown to report failures as `unknown`.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Socket, type Server as TcpServer } from 'node:net';
import * as packet from 'dns-packet';

/** One resource record: `data` is in dns-packet's shape for the type. */
export interface ZoneRecord {
  /** Owner name; `*.example.com` is a wildcard for any name below example.com. */
  name: string;
  type: packet.RecordType;
  ttl?: number;
  data: unknown;
}

/** A deliberate misbehaviour for names matching `name` (exact, or `*.suffix`). */
export interface Misbehaviour {
  name: string;
  action: 'servfail' | 'refused' | 'drop' | 'formerr';
}

/** What the server saw, for tests that assert on query names. */
export interface SeenQuery {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

/** Server options. */
export interface DnsServerOptions {
  records: readonly ZoneRecord[];
  misbehaviours?: readonly Misbehaviour[];
  host?: string;
  /** 0 picks a free port (UDP and TCP share it). */
  port?: number;
  /** Answers over UDP larger than this set TC, so clients retry over TCP. */
  maxUdpSize?: number;
}

/** A running server. */
export interface RunningDnsServer {
  host: string;
  port: number;
  /** `host:port` for a `resolver` setting. */
  address: string;
  queries: SeenQuery[];
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/** Starts the server; resolves once both UDP and TCP listen. */
export async function startDnsServer(options: DnsServerOptions): Promise<RunningDnsServer> {
  const host = options.host ?? '127.0.0.1';
  const records = options.records.map((record) => ({ ...record, name: normalise(record.name) }));
  const misbehaviours = (options.misbehaviours ?? []).map((rule) => ({
    ...rule,
    name: normalise(rule.name),
  }));
  const queries: SeenQuery[] = [];
  const maxUdpSize = options.maxUdpSize ?? 1232;

  const respond = (message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined => {
    let query: packet.DecodedPacket;
    try {
      query = packet.decode(message);
    } catch {
      return undefined;
    }
    const question = query.questions?.[0];
    if (!question) return undefined;
    const name = normalise(question.name);
    queries.push({ name, type: question.type, transport });
    const rule = misbehaviours.find((candidate) => matches(candidate.name, name));
    if (rule?.action === 'drop') return undefined;
    const base = { type: 'response' as const, id: query.id ?? 0, questions: [question] };
    if (rule) {
      const rcode =
        rule.action === 'servfail'
          ? RCODE.SERVFAIL
          : rule.action === 'refused'
            ? RCODE.REFUSED
            : RCODE.FORMERR;
      return packet.encode({ ...base, flags: rcode });
    }
    const { answers, exists } = lookup(records, name, question.type);
    const flags = packet.AUTHORITATIVE_ANSWER | (exists ? RCODE.NOERROR : RCODE.NXDOMAIN);
    const encoded = packet.encode({ ...base, flags, answers });
    if (transport === 'udp' && encoded.length > maxUdpSize) {
      return packet.encode({ ...base, flags: flags | packet.TRUNCATED_RESPONSE, answers: [] });
    }
    return encoded;
  };

  const connections = new Set<Socket>();
  const serveTcp = (socket: Socket): void => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= buffer.readUInt16BE(0) + 2) {
        const size = buffer.readUInt16BE(0);
        const answer = respond(buffer.subarray(2, size + 2), 'tcp');
        buffer = buffer.subarray(size + 2);
        if (answer) {
          const length = Buffer.alloc(2);
          length.writeUInt16BE(answer.length);
          socket.write(Buffer.concat([length, answer]));
        }
      }
    });
  };

  // UDP picks a free port, TCP must then get the same one; another process may hold it over TCP,
  // so an ephemeral port is retried on a fresh pair instead of failing the test that needs it.
  let udp: UdpSocket | undefined;
  let tcp: TcpServer | undefined;
  let port = 0;
  for (let attempt = 0; tcp === undefined; attempt += 1) {
    const candidate = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    candidate.on('message', (message, remote) => {
      const answer = respond(message, 'udp');
      if (answer) candidate.send(answer, remote.port, remote.address);
    });
    await new Promise<void>((resolve, reject) => {
      candidate.once('error', reject);
      candidate.bind(options.port ?? 0, host, () => resolve());
    });
    port = (candidate.address() as AddressInfo).port;
    const server = createServer(serveTcp);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      udp = candidate;
      tcp = server;
    } catch (error) {
      await new Promise<void>((resolve) => candidate.close(() => resolve()));
      const retry =
        (error as NodeJS.ErrnoException).code === 'EADDRINUSE' && options.port === undefined && attempt < 20;
      if (!retry) throw error;
    }
  }
  const udpSocket = udp as UdpSocket;
  const tcpServer = tcp;

  return {
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    queries,
    close: async () => {
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udpSocket.close(() => resolve())),
        new Promise<void>((resolve) => tcpServer.close(() => resolve())),
      ]);
    },
  };
}

function lookup(
  records: readonly ZoneRecord[],
  name: string,
  type: string,
): { answers: packet.Answer[]; exists: boolean } {
  let owned = records.filter((record) => record.name === name);
  if (owned.length === 0) {
    // Wildcards apply only when the name itself does not exist (RFC 4592), closest wildcard wins.
    const labels = name.split('.');
    for (let index = 1; index < labels.length && owned.length === 0; index += 1) {
      const wildcard = `*.${labels.slice(index).join('.')}`;
      owned = records.filter((record) => record.name === wildcard);
    }
  }
  const exists = owned.length > 0 || records.some((record) => record.name.endsWith(`.${name}`));
  const cname = owned.find((record) => record.type === 'CNAME');
  const chosen = cname && type !== 'CNAME' ? [cname] : owned.filter((record) => record.type === type);
  const answers = chosen.map(
    (record) =>
      ({ name, type: record.type, ttl: record.ttl ?? 300, class: 'IN', data: record.data }) as packet.Answer,
  );
  return { answers, exists };
}

function matches(pattern: string, name: string): boolean {
  return pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : pattern === name;
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
