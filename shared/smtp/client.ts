/**
 * The one SMTP client of watchkeeper: a conversation with one server over TCP (or implicit TLS on
 * port 465), one command at a time, with a timeout on every step and correct multi-line replies.
 * It speaks only what monitoring needs — greeting, EHLO/HELO, STARTTLS, MAIL/RCPT probes, RSET,
 * QUIT — and has no DATA helper on purpose: a probe must never deliver mail.
 *
 * ```ts
 * const smtp = await SmtpClient.connect({ host: 'mx.example.com', port: 25, timeoutMs: 10_000 });
 * try {
 *   const greeting = await smtp.greeting();          // waits for the final `220 ` line
 *   const { capabilities } = await smtp.ehlo('probe.example.net');
 *   if (capabilities && supports(capabilities, 'STARTTLS')) {
 *     const started = await smtp.startTls({ rejectUnauthorized: false }); // or startTlsSocket()
 *     if (started.accepted) await smtp.ehlo('probe.example.net');         // RFC 3207: EHLO again
 *   }
 * } finally {
 *   await smtp.quit();
 * }
 * ```
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { SmtpError } from './errors.ts';
import {
  type EhloCapabilities,
  formatReply,
  isPositive,
  parseEhloReply,
  parseGreeting,
  ReplyParser,
  type SmtpGreeting,
  type SmtpReply,
} from './reply.ts';

/** Default time allowed for connecting, for each reply and for a TLS handshake. */
export const DEFAULT_SMTP_TIMEOUT_MS = 10_000;

/** Where and how to connect. */
export interface SmtpConnectOptions {
  /** Host name or IP address to connect to. */
  host: string;
  port: number;
  /** Time allowed for the TCP connect, for each reply, and for a TLS handshake (ms). */
  timeoutMs?: number;
  /** Aborts the conversation (pass the job's deadline signal). */
  signal?: AbortSignal;
  /**
   * Implicit TLS (SMTPS, port 465): TLS options for a handshake right after connecting. `servername`
   * (SNI) defaults to `host` when it is a name.
   */
  tls?: ConnectionOptions;
  /** Address family for a host name: 4, 6, or 0 (either, the default). */
  family?: 0 | 4 | 6;
}

/** One line of the conversation, for debugging and for tests that prove what was (not) sent. */
export interface TranscriptLine {
  from: 'client' | 'server';
  line: string;
  /** Milliseconds since the connection was established. */
  atMs: number;
}

/** A greeting with the time it took to complete (from connection to the final `220 ` line). */
export interface TimedGreeting extends SmtpGreeting {
  elapsedMs: number;
}

/** The reply to EHLO and, when it was positive, the capabilities it lists. */
export interface EhloResult {
  reply: SmtpReply;
  capabilities: EhloCapabilities | undefined;
}

/** Outcome of STARTTLS when the caller takes over the plain socket. */
export type StartTlsSocketResult =
  | { accepted: true; reply: SmtpReply; socket: Socket }
  | { accepted: false; reply: SmtpReply };

/** Outcome of STARTTLS with the upgrade done by the client. */
export type StartTlsResult =
  | { accepted: true; reply: SmtpReply; tlsSocket: TLSSocket }
  | { accepted: false; reply: SmtpReply };

interface Waiter {
  resolve: (reply: SmtpReply) => void;
  reject: (error: SmtpError) => void;
}

/** An SMTP conversation with one server. Create it with `SmtpClient.connect`. */
export class SmtpClient {
  /** Every line sent and received, in order. */
  readonly transcript: TranscriptLine[] = [];
  /** The server address actually connected to. */
  readonly remoteAddress: string | undefined;
  /** The local address the connection came from. */
  readonly localAddress: string | undefined;

  #socket: Socket | TLSSocket;
  #host: string;
  #timeoutMs: number;
  #signal: AbortSignal | undefined;
  #parser = new ReplyParser();
  #queue: SmtpReply[] = [];
  #waiter: Waiter | undefined;
  #failure: SmtpError | undefined;
  #connectedAt: number;
  /** Set once STARTTLS handed the socket to the caller: it is theirs to close then. */
  #released = false;

  private constructor(socket: Socket | TLSSocket, options: SmtpConnectOptions, connectedAt: number) {
    this.#socket = socket;
    this.#host = options.host;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;
    this.#signal = options.signal;
    this.#connectedAt = connectedAt;
    this.remoteAddress = socket.remoteAddress;
    this.localAddress = socket.localAddress;
    this.#attach(socket);
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /**
   * Opens a TCP connection (and, with `options.tls`, completes the implicit TLS handshake).
   * Rejects with `SmtpError` of kind `connect`, `timeout`, `tls` or `aborted`.
   */
  static async connect(options: SmtpConnectOptions): Promise<SmtpClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;
    const where = `${options.host}:${options.port}`;
    if (options.signal?.aborted) throw new SmtpError('aborted', `not connecting to ${where}: aborted`);
    const socket = options.tls
      ? tlsConnect({
          host: options.host,
          port: options.port,
          ...(isIP(options.host) === 0 ? { servername: options.host } : {}),
          ...(options.family ? { family: options.family } : {}),
          ...options.tls,
        })
      : netConnect({
          host: options.host,
          port: options.port,
          ...(options.family ? { family: options.family } : {}),
        });
    let tcpConnected = false;
    socket.once('connect', () => {
      tcpConnected = true;
    });
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: SmtpError) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        if (error) {
          socket.destroy();
          reject(error);
        } else {
          resolve();
        }
      };
      const timer = setTimeout(
        () =>
          finish(
            new SmtpError(
              'timeout',
              tcpConnected
                ? `TLS handshake with ${where} did not finish within ${timeoutMs} ms`
                : `no connection to ${where} within ${timeoutMs} ms`,
              { stage: tcpConnected ? 'tls' : 'connect' },
            ),
          ),
        timeoutMs,
      );
      const onAbort = () =>
        finish(new SmtpError('aborted', `connection to ${where} aborted`, { stage: 'connect' }));
      const onError = (cause: Error) =>
        finish(
          tcpConnected
            ? new SmtpError('tls', `TLS handshake with ${where} failed: ${cause.message}`, {
                cause,
                stage: 'tls',
              })
            : new SmtpError('connect', `cannot connect to ${where}: ${cause.message}`, {
                cause,
                stage: 'connect',
              }),
        );
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once(options.tls ? 'secureConnect' : 'connect', () => finish());
    });
    return new SmtpClient(socket, options, performance.now());
  }

  /** True once the conversation runs over TLS (implicit TLS or after STARTTLS). */
  get secure(): boolean {
    return 'encrypted' in this.#socket && this.#socket.encrypted === true;
  }

  /** False once the conversation has failed, been closed, or handed its socket over. */
  get usable(): boolean {
    return this.#failure === undefined;
  }

  /** The socket in use (a TLSSocket after an upgrade: read the peer certificate from it). */
  get socket(): Socket | TLSSocket {
    return this.#socket;
  }

  /** Milliseconds since the connection was established. */
  elapsedMs(): number {
    return performance.now() - this.#connectedAt;
  }

  /**
   * Waits for the server's greeting (the final `220 ` line of a possibly multi-line greeting).
   * The reply is returned whatever its code: a 554 greeting means the server refuses us.
   */
  async greeting(timeoutMs = this.#timeoutMs): Promise<TimedGreeting> {
    const reply = await this.readReply(timeoutMs, 'greeting');
    return { ...parseGreeting(reply), elapsedMs: this.elapsedMs() };
  }

  /** Sends EHLO; `capabilities` is set when the reply is positive (fall back to `helo` otherwise). */
  async ehlo(domain: string, timeoutMs = this.#timeoutMs): Promise<EhloResult> {
    const reply = await this.command(`EHLO ${domain}`, timeoutMs);
    return { reply, capabilities: isPositive(reply) ? parseEhloReply(reply) : undefined };
  }

  /** Sends HELO (for servers that refuse EHLO). */
  helo(domain: string, timeoutMs = this.#timeoutMs): Promise<SmtpReply> {
    return this.command(`HELO ${domain}`, timeoutMs);
  }

  /** Sends RSET: forgets the envelope of a probe transaction. */
  rset(timeoutMs = this.#timeoutMs): Promise<SmtpReply> {
    return this.command('RSET', timeoutMs);
  }

  /** Sends one command line and waits for its complete reply. */
  async command(line: string, timeoutMs = this.#timeoutMs): Promise<SmtpReply> {
    this.send(line);
    return this.readReply(timeoutMs, line.split(' ', 1)[0]?.toUpperCase() ?? line);
  }

  /** Writes one command line (CRLF added). Throws on a line break in it, or after a failure. */
  send(line: string): void {
    if (/[\r\n]/.test(line)) throw new TypeError('an SMTP command must not contain a line break');
    if (this.#failure) throw this.#failure;
    this.transcript.push({ from: 'client', line, atMs: this.elapsedMs() });
    this.#socket.write(`${line}\r\n`);
  }

  /**
   * The next complete reply (queued or awaited). Rejects with `SmtpError` of kind `timeout`,
   * `closed`, `protocol` or `aborted`; a timeout ends the conversation, since the reply may still come.
   */
  readReply(timeoutMs = this.#timeoutMs, stage = 'reply'): Promise<SmtpReply> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#waiter) return Promise.reject(new TypeError('a reply is already awaited'));
    return new Promise<SmtpReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(
          new SmtpError(
            'timeout',
            stage === 'greeting'
              ? `no complete greeting within ${timeoutMs} ms`
              : `no reply to ${stage} within ${timeoutMs} ms`,
            { stage },
          ),
        );
      }, timeoutMs);
      this.#waiter = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          error.stage ??= stage;
          reject(error);
        },
      };
    });
  }

  /**
   * Sends STARTTLS and, on 220, hands the plain socket to the caller for
   * `tls.connect({ socket, servername })`; this client is finished afterwards. Any plaintext the
   * server sent after its 220 is discarded (RFC 3207 §5: it must not be trusted).
   */
  async startTlsSocket(timeoutMs = this.#timeoutMs): Promise<StartTlsSocketResult> {
    const reply = await this.command('STARTTLS', timeoutMs);
    if (reply.code !== 220) return { accepted: false, reply };
    const socket = this.#detach();
    this.#released = true;
    this.#failure = new SmtpError('closed', 'the connection was handed over for TLS', { stage: 'STARTTLS' });
    return { accepted: true, reply, socket };
  }

  /**
   * Sends STARTTLS and, on 220, performs the TLS handshake on the same connection; later commands
   * go over TLS (send EHLO again, RFC 3207). `servername` defaults to the host when it is a name.
   * A failed handshake rejects with `SmtpError` kind `tls` (or `timeout`) and ends the conversation.
   */
  async startTls(options: ConnectionOptions = {}, timeoutMs = this.#timeoutMs): Promise<StartTlsResult> {
    const reply = await this.command('STARTTLS', timeoutMs);
    if (reply.code !== 220) return { accepted: false, reply };
    const plain = this.#detach();
    const tlsSocket = tlsConnect({
      ...(isIP(this.#host) === 0 ? { servername: this.#host } : {}),
      ...options,
      socket: plain,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const finish = (error?: SmtpError) => {
          clearTimeout(timer);
          this.#signal?.removeEventListener('abort', onAbort);
          tlsSocket.off('error', onError);
          if (error) reject(error);
          else resolve();
        };
        const timer = setTimeout(
          () =>
            finish(
              new SmtpError('timeout', `TLS handshake after STARTTLS did not finish within ${timeoutMs} ms`, {
                stage: 'tls',
              }),
            ),
          timeoutMs,
        );
        const onAbort = () => finish(new SmtpError('aborted', 'TLS handshake aborted', { stage: 'tls' }));
        const onError = (cause: Error) =>
          finish(
            new SmtpError('tls', `TLS handshake after STARTTLS failed: ${cause.message}`, {
              cause,
              stage: 'tls',
            }),
          );
        this.#signal?.addEventListener('abort', onAbort, { once: true });
        tlsSocket.once('error', onError);
        tlsSocket.once('secureConnect', () => finish());
      });
    } catch (error) {
      tlsSocket.destroy();
      plain.destroy();
      this.#failure = error as SmtpError;
      throw error;
    }
    this.#socket = tlsSocket;
    this.#parser = new ReplyParser();
    this.#attach(tlsSocket);
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    return { accepted: true, reply, tlsSocket };
  }

  /**
   * Ends the conversation politely: QUIT (when the connection is still usable), a short wait for
   * the 221, then the socket is closed. Never throws; returns the reply to QUIT if there was one.
   */
  async quit(timeoutMs = Math.min(this.#timeoutMs, 2_000)): Promise<SmtpReply | undefined> {
    let reply: SmtpReply | undefined;
    if (!this.#failure) {
      try {
        reply = await this.command('QUIT', timeoutMs);
      } catch {
        // The server may close without a 221; the connection is finished either way.
      }
    }
    this.close();
    return reply;
  }

  /** Closes the connection at once (no QUIT). Idempotent. */
  close(): void {
    this.#fail(new SmtpError('closed', 'the connection was closed by the client'));
    if (!this.#released) this.#socket.destroy();
  }

  #attach(socket: Socket): void {
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  #detach(): Socket {
    const socket = this.#socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onEnd);
    socket.off('error', this.#onError);
    socket.pause();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#queue = [];
    this.#parser = new ReplyParser();
    return socket;
  }

  #onData = (chunk: Buffer): void => {
    let replies: SmtpReply[];
    try {
      replies = this.#parser.push(chunk);
    } catch (error) {
      this.#fail(error as SmtpError);
      return;
    }
    for (const reply of replies) {
      for (const line of formatReply(reply))
        this.transcript.push({ from: 'server', line, atMs: this.elapsedMs() });
      this.#queue.push(reply);
    }
    this.#deliver();
  };

  #onEnd = (): void => {
    this.#fail(new SmtpError('closed', 'the server closed the connection'));
  };

  #onError = (cause: Error): void => {
    this.#fail(new SmtpError('closed', `the connection failed: ${cause.message}`, { cause }));
  };

  #onAbort = (): void => {
    this.#fail(new SmtpError('aborted', 'the conversation was aborted'));
  };

  #deliver(): void {
    const waiter = this.#waiter;
    const reply = waiter ? this.#queue.shift() : undefined;
    if (waiter && reply) {
      this.#waiter = undefined;
      waiter.resolve(reply);
    }
  }

  #fail(error: SmtpError): void {
    if (!this.#failure) {
      this.#failure = error;
      this.#signal?.removeEventListener('abort', this.#onAbort);
      this.#socket.destroy();
    }
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.reject(this.#failure);
    }
  }
}
