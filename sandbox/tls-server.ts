/**
 * Real TLS endpoints on loopback for tests, benchmarks and the demo: serve a chosen chain (and
 * other chains by SNI) on 127.0.0.x, directly or behind a protocol-accurate STARTTLS front
 * (SMTP via sandbox/smtp-server.ts; IMAP, POP3, FTP, LDAP, PostgreSQL, MySQL, XMPP here), or
 * misbehave: accept and never speak, or reset at once. Everything is stopped by `close()`.
 */
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContext,
  type SecureContextOptions,
  type SecureVersion,
  type TLSSocket,
} from 'node:tls';
import { berChildren, readBer } from '#shared/starttls/ldap.ts';
import { MYSQL_CAPABILITIES, mysqlPacket } from '#shared/starttls/mysql.ts';
import { SocketReader } from '#shared/starttls/reader.ts';
import type { IssuedCertificate, KeyPair } from './pki.ts';
import { startSmtpServer } from './smtp-server.ts';

/** Protocol spoken before the TLS handshake. */
export type EndpointProtocol =
  | 'tls'
  | 'smtp'
  | 'imap'
  | 'pop3'
  | 'ftp'
  | 'ldap'
  | 'postgres'
  | 'mysql'
  | 'xmpp';

/** A chain to serve: leaf first, then what the server sends along (intermediates, cross-signs). */
export interface ServedChain {
  certificates: readonly IssuedCertificate[];
  /** Default: the leaf's key. */
  key?: KeyPair;
}

/** What to start. */
export interface TlsEndpointOptions {
  /** Loopback address (127.0.0.x or ::1); default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** The chain served (to clients without SNI, and to names not in `sni`). */
  chain: ServedChain | readonly IssuedCertificate[];
  /** Other chains by SNI host name. */
  sni?: Record<string, ServedChain | readonly IssuedCertificate[]>;
  /** Default `tls` (TLS from the first byte). */
  protocol?: EndpointProtocol;
  /** Whether the STARTTLS front offers TLS (default true); false: the capability is missing or refused. */
  offerStartTls?: boolean;
  /** TLS versions accepted (default TLSv1.2 .. TLSv1.3); `TLSv1` lets a test play a legacy appliance. */
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /** ALPN protocols the server selects from (e.g. ['h2', 'http/1.1']). */
  alpn?: string[];
  /** `silent`: accept and never speak (a firewall that blackholes after accept); `reset`: close at once. */
  behaviour?: 'normal' | 'silent' | 'reset';
}

/** A running endpoint. */
export interface RunningTlsEndpoint {
  host: string;
  port: number;
  /** `host:port` (IPv6 hosts in brackets). */
  address: string;
  /** SNI names clients sent, in order (connections without SNI add nothing). */
  readonly servernames: string[];
  /** Connections accepted. */
  readonly connections: number;
  close(): Promise<void>;
}

function normaliseChain(chain: ServedChain | readonly IssuedCertificate[]): ServedChain {
  return 'certificates' in chain ? chain : { certificates: chain as readonly IssuedCertificate[] };
}

function contextOptions(chain: ServedChain, options: TlsEndpointOptions): SecureContextOptions {
  const [leaf] = chain.certificates;
  if (!leaf) throw new TypeError('a served chain needs at least the leaf certificate');
  return {
    key: (chain.key ?? leaf.keyPair).privateKeyPem,
    cert: chain.certificates.map((certificate) => certificate.pem).join(''),
    // The sandbox must be able to serve what real servers get wrong: SHA-1, 1024-bit keys, TLS 1.0.
    ciphers: 'DEFAULT@SECLEVEL=0',
    minVersion: options.minVersion ?? 'TLSv1.2',
    maxVersion: options.maxVersion ?? 'TLSv1.3',
  };
}

/** Starts an endpoint; resolves once it listens. */
export async function startTlsEndpoint(options: TlsEndpointOptions): Promise<RunningTlsEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const protocol = options.protocol ?? 'tls';
  const main = normaliseChain(options.chain);
  if (protocol === 'smtp') return startSmtpEndpoint(host, main, options);

  const defaultContext = createSecureContext(contextOptions(main, options));
  const contexts = new Map<string, SecureContext>();
  for (const [name, chain] of Object.entries(options.sni ?? {})) {
    contexts.set(name.toLowerCase(), createSecureContext(contextOptions(normaliseChain(chain), options)));
  }
  const servernames: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;

  // A non-listening tls.Server does the handshakes: sockets are handed to it after the front.
  const tlsServer = createTlsServer({
    ...contextOptions(main, options),
    SNICallback: (name, callback) => {
      servernames.push(name);
      callback(null, contexts.get(name.toLowerCase()) ?? defaultContext);
    },
    ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
  });
  tlsServer.on('secureConnection', (secure: TLSSocket) => {
    secure.on('error', () => secure.destroy());
    secure.on('data', () => undefined);
    // A probe closes after the handshake; answer the close so no socket lingers.
    secure.on('end', () => secure.end());
  });
  tlsServer.on('tlsClientError', (_error, secure) => secure.destroy());
  const startTls = (socket: Socket): void => {
    tlsServer.emit('connection', socket);
  };

  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (options.behaviour === 'silent') return;
    if (options.behaviour === 'reset') {
      socket.resetAndDestroy();
      return;
    }
    if (protocol === 'tls') {
      startTls(socket);
      return;
    }
    const reader = new SocketReader(socket);
    serveFront(protocol, reader, options.offerStartTls ?? true)
      .then((upgrade) => {
        if (upgrade) startTls(reader.release({ keepPending: true }));
        else socket.end();
      })
      .catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    servernames,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function startSmtpEndpoint(
  host: string,
  chain: ServedChain,
  options: TlsEndpointOptions,
): Promise<RunningTlsEndpoint> {
  const { key, cert } = contextOptions(chain, options);
  const offer = options.offerStartTls ?? true;
  const smtp = await startSmtpServer({
    host,
    ...(options.port === undefined ? {} : { port: options.port }),
    hostname: chain.certificates[0]?.spec.commonName ?? 'mx.example.test',
    // A postscreen-style multi-line greeting and STARTTLS on the final EHLO line: the two
    // dialogue details monitors most often get wrong.
    bannerLines: ['ESMTP watchkeeper sandbox', 'please wait for the final greeting line', 'ready'],
    starttlsLast: true,
    silent: options.behaviour === 'silent',
    ...(offer ? { tls: { key: key as string, cert: cert as string } } : {}),
  });
  return {
    host: smtp.host,
    port: smtp.port,
    address: `${smtp.host}:${smtp.port}`,
    servernames: [],
    get connections() {
      return smtp.sessions;
    },
    close: () => smtp.close(),
  };
}

/** Plays the server side of a STARTTLS dialogue; true when the client may now start TLS. */
async function serveFront(
  protocol: Exclude<EndpointProtocol, 'tls' | 'smtp'>,
  reader: SocketReader,
  offer: boolean,
) {
  switch (protocol) {
    case 'imap':
      return serveImap(reader, offer);
    case 'pop3':
      return servePop3(reader, offer);
    case 'ftp':
      return serveFtp(reader, offer);
    case 'ldap':
      return serveLdap(reader, offer);
    case 'postgres':
      return servePostgres(reader, offer);
    case 'mysql':
      return serveMysql(reader, offer);
    case 'xmpp':
      return serveXmpp(reader, offer);
  }
}

async function serveImap(reader: SocketReader, offer: boolean): Promise<boolean> {
  const capabilities = `IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+${offer ? ' STARTTLS' : ''} LOGINDISABLED`;
  // Dovecot puts capabilities in the greeting; clients must still cope when they are not there.
  reader.write('* OK [CAPABILITY IMAP4rev1 LITERAL+] watchkeeper sandbox IMAP ready.\r\n');
  for (;;) {
    const line = await reader.readLine();
    const [tag = '*', command = ''] = line.split(' ');
    switch (command.toUpperCase()) {
      case 'CAPABILITY':
        reader.write(
          `* CAPABILITY ${capabilities}\r\n${tag} OK Pre-login capabilities listed, post-login capabilities have more.\r\n`,
        );
        break;
      case 'STARTTLS':
        if (!offer) {
          reader.write(`${tag} BAD Unknown command.\r\n`);
          break;
        }
        reader.write(`${tag} OK Begin TLS negotiation now.\r\n`);
        return true;
      case 'LOGOUT':
        reader.write(`* BYE Logging out\r\n${tag} OK Logout completed.\r\n`);
        return false;
      default:
        reader.write(`${tag} BAD Error in IMAP command received by server.\r\n`);
    }
  }
}

async function servePop3(reader: SocketReader, offer: boolean): Promise<boolean> {
  reader.write('+OK watchkeeper sandbox POP3 ready.\r\n');
  for (;;) {
    const command = (await reader.readLine()).toUpperCase();
    if (command === 'CAPA') {
      reader.write(
        `+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n${offer ? 'STLS\r\n' : ''}USER\r\n.\r\n`,
      );
    } else if (command === 'STLS' && offer) {
      reader.write('+OK Begin TLS negotiation\r\n');
      return true;
    } else if (command === 'QUIT') {
      reader.write('+OK Logging out\r\n');
      return false;
    } else {
      reader.write('-ERR Unknown command.\r\n');
    }
  }
}

async function serveFtp(reader: SocketReader, offer: boolean): Promise<boolean> {
  // A multi-line greeting whose middle line holds digits, padded as RFC 959 §4.2 requires.
  reader.write('220-watchkeeper sandbox FTP server\r\n 220 lines may follow, padded\r\n220 Ready.\r\n');
  for (;;) {
    const command = (await reader.readLine()).toUpperCase();
    if (command === 'AUTH TLS' && offer) {
      reader.write('234 Proceed with negotiation.\r\n');
      return true;
    }
    if (command === 'QUIT') {
      reader.write('221 Goodbye.\r\n');
      return false;
    }
    reader.write(
      command.startsWith('AUTH') ? '530 Please login with USER and PASS.\r\n' : '500 Unknown command.\r\n',
    );
  }
}

function berEncode(tag: number, contents: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag, contents.length]), contents]);
}

async function serveLdap(reader: SocketReader, offer: boolean): Promise<boolean> {
  const raw = await reader.readUntil((buffer) => readBer(buffer)?.length ?? -1);
  const message = readBer(raw);
  const [id, operation] = message ? berChildren(message.contents) : [];
  const name =
    operation?.tag === 0x77 ? berChildren(operation.contents)[0]?.contents.toString('latin1') : undefined;
  const isStartTls = name === '1.3.6.1.4.1.1466.20037';
  // ExtendedResponse: resultCode, matchedDN, diagnosticMessage (+ responseName on success).
  const resultCode = isStartTls && offer ? 0 : 2;
  const diagnostic = resultCode === 0 ? '' : 'unsupported extended operation';
  const response = berEncode(
    0x78,
    Buffer.concat([
      berEncode(0x0a, Buffer.from([resultCode])),
      berEncode(0x04, Buffer.alloc(0)),
      berEncode(0x04, Buffer.from(diagnostic)),
      ...(resultCode === 0 ? [berEncode(0x8a, Buffer.from('1.3.6.1.4.1.1466.20037'))] : []),
    ]),
  );
  reader.write(berEncode(0x30, Buffer.concat([berEncode(0x02, id?.contents ?? Buffer.from([1])), response])));
  return resultCode === 0;
}

async function servePostgres(reader: SocketReader, offer: boolean): Promise<boolean> {
  const request = await reader.readBytes(8);
  if (request.readUInt32BE(0) !== 8 || request.readUInt32BE(4) !== 80877103) return false;
  reader.write(offer ? 'S' : 'N');
  return offer;
}

async function serveMysql(reader: SocketReader, offer: boolean): Promise<boolean> {
  const flags =
    MYSQL_CAPABILITIES.longPassword |
    MYSQL_CAPABILITIES.connectWithDb |
    MYSQL_CAPABILITIES.protocol41 |
    MYSQL_CAPABILITIES.secureConnection |
    MYSQL_CAPABILITIES.pluginAuth |
    (offer ? MYSQL_CAPABILITIES.ssl : 0);
  const scramble = randomBytes(20);
  const lower = Buffer.alloc(2);
  lower.writeUInt16LE(flags & 0xffff);
  const upper = Buffer.alloc(2);
  upper.writeUInt16LE(flags >>> 16);
  const connectionId = Buffer.alloc(4);
  connectionId.writeUInt32LE(42);
  const greeting = Buffer.concat([
    Buffer.from([10]),
    Buffer.from('8.0.36-watchkeeper-sandbox\0', 'latin1'),
    connectionId,
    scramble.subarray(0, 8),
    Buffer.from([0]),
    lower,
    Buffer.from([0xff, 0x02, 0x00]), // charset utf8mb4, status SERVER_STATUS_AUTOCOMMIT
    upper,
    Buffer.from([21]),
    Buffer.alloc(10),
    scramble.subarray(8),
    Buffer.from([0]),
    Buffer.from('caching_sha2_password\0', 'latin1'),
  ]);
  reader.write(mysqlPacket(0, greeting));
  const header = await reader.readBytes(4);
  const payload = await reader.readBytes(header.readUIntLE(0, 3));
  // An SSLRequest is exactly 32 bytes with CLIENT_SSL set; anything else is a plaintext login.
  return offer && payload.length === 32 && (payload.readUInt32LE(0) & MYSQL_CAPABILITIES.ssl) !== 0;
}

async function serveXmpp(reader: SocketReader, offer: boolean): Promise<boolean> {
  const header = (
    await reader.readUntil((buffer) => {
      const index = buffer.indexOf('>', buffer.indexOf('<stream:stream'));
      return buffer.indexOf('<stream:stream') < 0 || index < 0 ? -1 : index + 1;
    })
  ).toString('utf8');
  const domain = /\bto=['"]([^'"]+)['"]/.exec(header)?.[1] ?? 'localhost';
  reader.write(
    `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='${randomBytes(6).toString('hex')}' from='${domain}' version='1.0' xml:lang='en'>` +
      `<stream:features>${offer ? "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>" : ''}<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`,
  );
  if (!offer) return false;
  await reader.readUntil((buffer) => {
    const index = buffer.indexOf('/>');
    return index < 0 ? -1 : index + 2;
  });
  reader.write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  return true;
}
