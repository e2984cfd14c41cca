/**
 * A small, protocol-accurate SMTP server for tests and the demo (RFC 5321 replies, RFC 3207
 * STARTTLS). It can misbehave the ways real servers do — multi-line or slow greetings, STARTTLS
 * listed last, AUTH offered before TLS, an open relay, closing mid-conversation — and it records
 * every command line it receives, so a test can prove that a probe never sent DATA.
 * It accepts mail for nobody: DATA is implemented (so a client bug would be visible) but discarded.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, TLSSocket } from 'node:tls';

/** How the server behaves. Everything is optional; the default is a correct, non-relaying server. */
export interface SmtpServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: an ephemeral port). */
  port?: number;
  /** Name in the greeting and the EHLO reply (default `mx.example.test`). */
  hostname?: string;
  /** Name in the EHLO reply when it differs from the greeting's (a misconfigured server). */
  ehloHostname?: string;
  /** Greeting lines after the name; several lines make a multi-line `220-` greeting. */
  bannerLines?: string[];
  /** Delay before the final greeting line (earlier lines are sent at once, as postscreen does). */
  greetingDelayMs?: number;
  /** Greeting reply code: 220, or 554 for a server that refuses the client. */
  greetingCode?: number;
  /** Never greet (a server that accepts connections and then hangs). */
  silent?: boolean;
  /** TLS key and certificate (PEM): STARTTLS is offered when set (or implicit TLS, below). */
  tls?: { key: string | Buffer; cert: string | Buffer } | undefined;
  /** Implicit TLS from the first byte (SMTPS, port 465). Needs `tls`. */
  implicitTls?: boolean;
  /** List STARTTLS as the last EHLO keyword, so it arrives on the final `250 ` line. */
  starttlsLast?: boolean;
  /** SASL mechanisms offered after TLS (default PLAIN LOGIN); empty offers no AUTH. */
  authMechanisms?: string[];
  /** Offer AUTH before TLS too (what submission servers must not do). */
  authBeforeTls?: boolean;
  /** Refuse EHLO with 502 (an old server that only knows HELO). */
  rejectEhlo?: boolean;
  /** Accept RCPT for any domain: an open relay. */
  openRelay?: boolean;
  /** Recipient domains the server is the destination for (accepted without relaying). */
  localDomains?: string[];
  /** Answer STARTTLS with 220 and then close instead of negotiating (a broken TLS set-up). */
  brokenStartTls?: boolean;
  /** Reply to MAIL instead of `250 2.1.0 Ok`, e.g. `530 5.7.0 Authentication required`. */
  mailReply?: string;
  /** Reply to RCPT for a non-local recipient, e.g. `450 4.2.0 Greylisted` (overrides openRelay). */
  relayReply?: string;
  /** Close the connection when this command verb arrives (e.g. `MAIL`): silently, or after `closeReply`. */
  closeOnCommand?: string;
  /** The last words before closing on `closeOnCommand`, e.g. `421 4.7.0 Too many connections`. */
  closeReply?: string;
}

/** One command line the server received. */
export interface RecordedCommand {
  /** Connection number, from 1. */
  session: number;
  line: string;
  /** Whether it arrived over TLS. */
  tls: boolean;
}

/** A running server. */
export interface RunningSmtpServer {
  host: string;
  port: number;
  /** Every command line received, in order (message content after DATA is not a command). */
  readonly commands: RecordedCommand[];
  /** Number of messages whose content was received after DATA (a probe must leave this at 0). */
  readonly messagesReceived: number;
  /** Number of connections accepted. */
  readonly sessions: number;
  close(): Promise<void>;
}

const DEFAULT_HOSTNAME = 'mx.example.test';

/** Starts an SMTP server on loopback with the given behaviour. */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<RunningSmtpServer> {
  if (options.implicitTls && !options.tls) throw new TypeError('implicitTls needs tls');
  const host = options.host ?? '127.0.0.1';
  const commands: RecordedCommand[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let sessions = 0;
  let messagesReceived = 0;
  const secureContext = options.tls ? createSecureContext(options.tls) : undefined;

  const onConnection = (socket: Socket) => {
    sessions += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const session = new Session(socket, sessions, options, secureContext, {
      record: (command) => commands.push(command),
      messageReceived: () => {
        messagesReceived += 1;
      },
      later: (fn, ms) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          fn();
        }, ms);
        timers.add(timer);
      },
    });
    session.start();
  };

  const server: Server =
    options.implicitTls && secureContext
      ? createTlsServer({ key: options.tls?.key, cert: options.tls?.cert }, onConnection)
      : createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('SMTP server has no TCP address');

  return {
    host,
    port: address.port,
    commands,
    get messagesReceived() {
      return messagesReceived;
    },
    get sessions() {
      return sessions;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface SessionHooks {
  record(command: RecordedCommand): void;
  messageReceived(): void;
  later(fn: () => void, ms: number): void;
}

/** One connection's protocol state machine. */
class Session {
  #socket: Socket;
  #number: number;
  #options: SmtpServerOptions;
  #secureContext: ReturnType<typeof createSecureContext> | undefined;
  #hooks: SessionHooks;
  #buffer = '';
  #greeted = false;
  #tls: boolean;
  #helo = false;
  #mailFrom: string | undefined;
  #recipients = 0;
  #inData = false;
  #closed = false;

  constructor(
    socket: Socket,
    number: number,
    options: SmtpServerOptions,
    secureContext: ReturnType<typeof createSecureContext> | undefined,
    hooks: SessionHooks,
  ) {
    this.#socket = socket;
    this.#number = number;
    this.#options = options;
    this.#secureContext = secureContext;
    this.#hooks = hooks;
    this.#tls = options.implicitTls === true;
  }

  start(): void {
    this.#socket.on('data', this.#onData);
    this.#socket.on('close', () => {
      this.#closed = true;
    });
    if (this.#options.silent) return;
    const name = this.#options.hostname ?? DEFAULT_HOSTNAME;
    const code = this.#options.greetingCode ?? 220;
    const texts = this.#options.bannerLines ?? ['ESMTP'];
    const lines = texts.map((text, index) => (index === 0 ? `${name} ${text}` : text));
    const finalLine = lines.pop() ?? name;
    for (const line of lines) this.#write(`${code}-${line}`);
    const finish = () => {
      this.#write(`${code} ${finalLine}`);
      this.#greeted = true;
      if (code !== 220) this.#end();
      else this.#drain();
    };
    if (this.#options.greetingDelayMs) this.#hooks.later(finish, this.#options.greetingDelayMs);
    else finish();
  }

  #onData = (chunk: Buffer): void => {
    this.#buffer += chunk.toString('utf8');
    this.#drain();
  };

  /** Processes complete lines once greeted (lines sent before the greeting wait, as in Postfix). */
  #drain(): void {
    while (this.#greeted && !this.#closed) {
      const end = this.#buffer.indexOf('\n');
      if (end < 0) return;
      const line = this.#buffer.slice(0, end).replace(/\r$/, '');
      this.#buffer = this.#buffer.slice(end + 1);
      if (this.#inData) {
        if (line === '.') {
          this.#inData = false;
          this.#hooks.messageReceived();
          this.#write('250 2.0.0 Ok: discarded by the sandbox');
          this.#resetTransaction();
        }
        continue;
      }
      this.#hooks.record({ session: this.#number, line, tls: this.#tls });
      const reply = this.#respond(line);
      for (const text of typeof reply === 'string' ? [reply] : (reply ?? [])) this.#write(text);
    }
  }

  /** The reply to one command (its lines), after any side effects; undefined when it answers itself. */
  #respond(line: string): string | string[] | undefined {
    const verb = (line.split(' ', 1)[0] ?? '').toUpperCase();
    const argument = line.slice(verb.length).trim();
    if (this.#options.closeOnCommand?.toUpperCase() === verb) {
      if (this.#options.closeReply) {
        this.#write(this.#options.closeReply);
        this.#end();
      } else {
        this.#socket.destroy();
      }
      return undefined;
    }
    switch (verb) {
      case 'EHLO':
        if (this.#options.rejectEhlo) return '502 5.5.2 Error: command not recognized';
        if (!argument) return '501 5.5.4 Syntax: EHLO hostname';
        this.#helo = true;
        this.#resetTransaction();
        return multiline(250, [
          this.#options.ehloHostname ?? this.#options.hostname ?? DEFAULT_HOSTNAME,
          ...this.#extensions(),
        ]);
      case 'HELO':
        if (!argument) return '501 Syntax: HELO hostname';
        this.#helo = true;
        this.#resetTransaction();
        return `250 ${this.#options.ehloHostname ?? this.#options.hostname ?? DEFAULT_HOSTNAME}`;
      case 'STARTTLS':
        return this.#startTls();
      case 'AUTH':
        if (!this.#authOffered()) return '503 5.5.1 Error: authentication not enabled';
        return '535 5.7.8 Error: authentication failed';
      case 'MAIL':
        if (!this.#helo) return '503 5.5.1 Error: send HELO/EHLO first';
        if (this.#mailFrom !== undefined) return '503 5.5.1 Error: nested MAIL command';
        if (!/^FROM:\s*<[^>]*>/i.test(argument)) return '501 5.5.4 Syntax: MAIL FROM:<address>';
        if (this.#options.mailReply && !this.#options.mailReply.startsWith('2'))
          return this.#options.mailReply;
        this.#mailFrom = argument;
        return this.#options.mailReply ?? '250 2.1.0 Ok';
      case 'RCPT': {
        if (this.#mailFrom === undefined) return '503 5.5.1 Error: need MAIL command';
        const address = /^TO:\s*<([^>]*)>/i.exec(argument)?.[1];
        if (address === undefined) return '501 5.5.4 Syntax: RCPT TO:<address>';
        const domain = address.split('@').pop()?.toLowerCase() ?? '';
        const local = (this.#options.localDomains ?? []).some((d) => d.toLowerCase() === domain);
        if (!local && this.#options.relayReply) {
          if (this.#options.relayReply.startsWith('2')) this.#recipients += 1;
          return this.#options.relayReply;
        }
        if (!local && !this.#options.openRelay) {
          return `554 5.7.1 <${address}>: Relay access denied`;
        }
        this.#recipients += 1;
        return '250 2.1.5 Ok';
      }
      case 'DATA':
        if (this.#recipients === 0) return '503 5.5.1 Error: need RCPT command';
        this.#inData = true;
        return '354 End data with <CR><LF>.<CR><LF>';
      case 'RSET':
        this.#resetTransaction();
        return '250 2.0.0 Ok';
      case 'NOOP':
        return '250 2.0.0 Ok';
      case 'QUIT':
        this.#write('221 2.0.0 Bye');
        this.#end();
        return undefined;
      default:
        return '502 5.5.2 Error: command not recognized';
    }
  }

  #extensions(): string[] {
    const list = ['PIPELINING', 'SIZE 10240000', 'ENHANCEDSTATUSCODES', '8BITMIME'];
    const starttls = this.#secureContext && !this.#tls ? ['STARTTLS'] : [];
    const mechanisms = this.#options.authMechanisms ?? ['PLAIN', 'LOGIN'];
    const auth = this.#authOffered() && mechanisms.length > 0 ? [`AUTH ${mechanisms.join(' ')}`] : [];
    return this.#options.starttlsLast
      ? [...list, ...auth, ...starttls]
      : [...starttls, ...list.slice(0, 1), ...auth, ...list.slice(1)];
  }

  #authOffered(): boolean {
    return this.#tls || this.#options.authBeforeTls === true;
  }

  #startTls(): string | undefined {
    const secureContext = this.#secureContext;
    if (!secureContext || this.#tls) return '502 5.5.1 Error: command not implemented';
    this.#write('220 2.0.0 Ready to start TLS');
    if (this.#options.brokenStartTls) {
      this.#socket.end();
      this.#closed = true;
      return undefined;
    }
    // RFC 3207 §4.2: forget everything learnt before TLS, and anything pipelined after STARTTLS.
    this.#buffer = '';
    this.#socket.off('data', this.#onData);
    const secure = new TLSSocket(this.#socket, { isServer: true, secureContext });
    secure.on('error', () => secure.destroy());
    secure.on('close', () => {
      this.#closed = true;
    });
    this.#socket = secure;
    this.#tls = true;
    this.#helo = false;
    this.#resetTransaction();
    secure.on('data', this.#onData);
    return undefined;
  }

  #resetTransaction(): void {
    this.#mailFrom = undefined;
    this.#recipients = 0;
  }

  #write(line: string): void {
    if (!this.#closed && !this.#socket.destroyed) this.#socket.write(`${line}\r\n`);
  }

  #end(): void {
    this.#closed = true;
    this.#socket.end();
  }
}

/** A multi-line reply: `ddd-` on every line but the last. */
function multiline(code: number, lines: string[]): string[] {
  return lines.map((line, index) => `${code}${index === lines.length - 1 ? ' ' : '-'}${line}`);
}
