/**
 * MySQL/MariaDB TLS upgrade (client/server protocol, "SSL Handshake"): read the server's initial
 * handshake packet, check CLIENT_SSL, send the 32-byte SSLRequest packet, then TLS.
 */
import { type SocketReader, StartTlsError } from './reader.ts';

/** Capability flags used here (MySQL `CLIENT_*`). */
export const MYSQL_CAPABILITIES = {
  longPassword: 0x1,
  connectWithDb: 0x8,
  protocol41: 0x200,
  ssl: 0x800,
  secureConnection: 0x8000,
  pluginAuth: 0x80000,
} as const;

/** What the initial handshake says about the server. */
export interface MysqlGreeting {
  protocolVersion: number;
  serverVersion: string;
  capabilities: number;
}

/** Reads one packet: 3-byte little-endian length, sequence id, payload. */
export async function readMysqlPacket(reader: SocketReader): Promise<{ sequence: number; payload: Buffer }> {
  const header = await reader.readBytes(4);
  const length = header.readUIntLE(0, 3);
  return { sequence: header[3] ?? 0, payload: await reader.readBytes(length) };
}

/** Frames a payload as a packet. */
export function mysqlPacket(sequence: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
}

/** Parses the HandshakeV10 packet (the capability flags are split in two halves around it). */
export function parseMysqlGreeting(payload: Buffer): MysqlGreeting {
  const protocolVersion = payload[0] ?? 0;
  if (protocolVersion === 0xff) {
    // ERR packet instead of a greeting: 0xff, error code (2), message ("Host ... is blocked ...").
    const message = payload
      .subarray(3)
      .toString('utf8')
      .replace(/^#\w{5}/, '');
    throw new StartTlsError('refused', `the MySQL server refused the connection: ${message}`, message);
  }
  if (protocolVersion !== 10) {
    throw new StartTlsError(
      'protocol',
      `the server sent MySQL protocol version ${protocolVersion}, expected 10`,
    );
  }
  const versionEnd = payload.indexOf(0, 1);
  if (versionEnd < 0) throw new StartTlsError('protocol', 'the MySQL greeting has no server version');
  const serverVersion = payload.subarray(1, versionEnd).toString('latin1');
  // version NUL, connection id (4), auth data part 1 (8), filler (1) → lower capability flags (2)
  const lower = versionEnd + 1 + 4 + 8 + 1;
  if (payload.length < lower + 2) throw new StartTlsError('protocol', 'the MySQL greeting is truncated');
  let capabilities = payload.readUInt16LE(lower);
  // charset (1), status (2) → upper capability flags (2), present in every 4.1+ server
  if (payload.length >= lower + 7) capabilities |= payload.readUInt16LE(lower + 5) << 16;
  return { protocolVersion, serverVersion, capabilities: capabilities >>> 0 };
}

/** The SSLRequest packet body: capabilities, max packet size, charset, 23 zero bytes. */
export function mysqlSslRequest(): Buffer {
  const body = Buffer.alloc(32);
  const flags =
    MYSQL_CAPABILITIES.longPassword |
    MYSQL_CAPABILITIES.protocol41 |
    MYSQL_CAPABILITIES.ssl |
    MYSQL_CAPABILITIES.secureConnection |
    MYSQL_CAPABILITIES.pluginAuth;
  body.writeUInt32LE(flags >>> 0, 0);
  body.writeUInt32LE(16 * 1024 * 1024, 4);
  body[8] = 0xff; // utf8mb4_0900_ai_ci; 45 (utf8mb4_general_ci) on MariaDB, either is accepted here
  return body;
}

/** Runs the MySQL upgrade; resolves with the greeting once the server must start TLS. */
export async function mysqlStartTls(reader: SocketReader): Promise<MysqlGreeting> {
  const { sequence, payload } = await readMysqlPacket(reader);
  const greeting = parseMysqlGreeting(payload);
  if ((greeting.capabilities & MYSQL_CAPABILITIES.ssl) === 0) {
    throw new StartTlsError(
      'not-offered',
      `the MySQL server ${greeting.serverVersion} does not offer SSL (CLIENT_SSL not set; have_ssl = DISABLED)`,
    );
  }
  reader.write(mysqlPacket((sequence + 1) & 0xff, mysqlSslRequest()));
  return greeting;
}
