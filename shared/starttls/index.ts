/**
 * STARTTLS dialogues for every protocol watchkeeper probes. `negotiateStartTls` takes a connected
 * plain socket, talks the protocol until the server agrees to TLS, and returns the same socket,
 * ready for `tls.connect({ socket, servername })`. Failures are `StartTlsError`s saying whether
 * the server does not offer TLS, refused it, or spoke nonsense. Timeouts and aborts belong to the
 * caller: destroy the socket and the pending read rejects.
 */
import type { Socket } from 'node:net';
import { ftpStartTls } from './ftp.ts';
import { imapStartTls } from './imap.ts';
import { ldapStartTls } from './ldap.ts';
import { mysqlStartTls } from './mysql.ts';
import { pop3StartTls } from './pop3.ts';
import { postgresStartTls } from './postgres.ts';
import { SocketReader } from './reader.ts';
import { smtpStartTls } from './smtp.ts';
import { xmppStartTls } from './xmpp.ts';

export { StartTlsError, type StartTlsFailure } from './reader.ts';

/** Protocols with an in-band upgrade to TLS. */
export const STARTTLS_PROTOCOLS = [
  'smtp',
  'imap',
  'pop3',
  'ftp',
  'ldap',
  'postgres',
  'mysql',
  'xmpp',
] as const;

/** A protocol with an in-band upgrade to TLS. */
export type StartTlsProtocol = (typeof STARTTLS_PROTOCOLS)[number];

/** Well-known plaintext ports where each protocol upgrades with STARTTLS. */
export const STARTTLS_DEFAULT_PORTS: Readonly<Record<StartTlsProtocol, number>> = {
  smtp: 25,
  imap: 143,
  pop3: 110,
  ftp: 21,
  ldap: 389,
  postgres: 5432,
  mysql: 3306,
  xmpp: 5222,
};

/** What the dialogue learnt on the way (for `data`). */
export interface StartTlsDetails {
  protocol: StartTlsProtocol;
  /** MySQL server version from its greeting. */
  serverVersion?: string;
}

/** Options of a dialogue. */
export interface StartTlsOptions {
  /** The service's domain: XMPP's stream `to`. */
  domain: string;
  /** Our name in SMTP's EHLO. */
  ehloName: string;
}

/** Runs `protocol`'s dialogue on `socket`; resolves with the socket once the server awaits a ClientHello. */
export async function negotiateStartTls(
  socket: Socket,
  protocol: StartTlsProtocol,
  options: StartTlsOptions,
): Promise<{ socket: Socket; details: StartTlsDetails }> {
  const reader = new SocketReader(socket);
  const details: StartTlsDetails = { protocol };
  switch (protocol) {
    case 'smtp':
      await smtpStartTls(reader, options.ehloName);
      break;
    case 'imap':
      await imapStartTls(reader);
      break;
    case 'pop3':
      await pop3StartTls(reader);
      break;
    case 'ftp':
      await ftpStartTls(reader);
      break;
    case 'ldap':
      await ldapStartTls(reader);
      break;
    case 'postgres':
      await postgresStartTls(reader);
      break;
    case 'mysql':
      details.serverVersion = (await mysqlStartTls(reader)).serverVersion;
      break;
    case 'xmpp':
      await xmppStartTls(reader, options.domain);
      break;
  }
  return { socket: reader.release(), details };
}
