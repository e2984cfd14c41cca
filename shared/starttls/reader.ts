/**
 * Buffered reads from a plain socket for STARTTLS dialogues. A `data` event is not a line or a
 * reply: servers split and coalesce writes freely, so every dialogue reads through this buffer.
 * `release()` hands the socket back untouched (listeners removed, paused) for `tls.connect({ socket })`.
 */
import type { Socket } from 'node:net';

/** Why a STARTTLS dialogue did not produce a socket ready for TLS. */
export type StartTlsFailure =
  /** The server does not offer STARTTLS (capability missing). */
  | 'not-offered'
  /** The server offered it but refused the command (or answered "no SSL"). */
  | 'refused'
  /** The server answered something the protocol does not allow here. */
  | 'protocol'
  /** The connection closed or failed during the dialogue. */
  | 'closed';

/** A STARTTLS dialogue failed; `transcript` holds the server's last words (never secrets). */
export class StartTlsError extends Error {
  override readonly name = 'StartTlsError';
  readonly reason: StartTlsFailure;
  readonly serverReply: string | undefined;

  constructor(reason: StartTlsFailure, message: string, serverReply?: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
    this.serverReply = serverReply;
  }
}

const MAX_BUFFER = 64 * 1024;

/** Reads lines and byte counts from a socket, however the server chunks its writes. */
export class SocketReader {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #closed: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    this.#notify();
  };
  readonly #onEnd = (): void => {
    this.#closed ??= new StartTlsError(
      'closed',
      'the server closed the connection during the STARTTLS dialogue',
    );
    this.#notify();
  };
  readonly #onError = (error: Error): void => {
    this.#closed ??= new StartTlsError(
      'closed',
      `connection failed during the STARTTLS dialogue: ${error.message}`,
      undefined,
      {
        cause: error,
      },
    );
    this.#notify();
  };

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * Waits until `take` returns how many buffered bytes form one unit (or -1: need more), then
   * removes and returns them.
   */
  async readUntil(take: (buffer: Buffer) => number): Promise<Buffer> {
    for (;;) {
      const length = take(this.#buffer);
      if (length >= 0) {
        const unit = this.#buffer.subarray(0, length);
        this.#buffer = this.#buffer.subarray(length);
        return unit;
      }
      if (this.#closed) throw this.#closed;
      if (this.#buffer.length > MAX_BUFFER) {
        throw new StartTlsError(
          'protocol',
          `the server sent more than ${MAX_BUFFER} bytes without the expected reply`,
        );
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** One line without its CR LF (a bare LF is accepted, as lenient clients do). */
  async readLine(): Promise<string> {
    const raw = await this.readUntil((buffer) => {
      const index = buffer.indexOf(0x0a);
      return index < 0 ? -1 : index + 1;
    });
    return raw.toString('latin1').replace(/\r?\n$/, '');
  }

  /** Exactly `count` bytes. */
  readBytes(count: number): Promise<Buffer> {
    return this.readUntil((buffer) => (buffer.length >= count ? count : -1));
  }

  /** Writes to the socket. */
  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  /** Bytes received but not read (a server must not send any before the TLS handshake). */
  get pending(): number {
    return this.#buffer.length;
  }

  /**
   * Stops reading and returns the socket, paused, for the TLS handshake. A client must not accept
   * bytes that arrived before its ClientHello; a server (`keepPending`) gets them back on the
   * socket, since a client may send its ClientHello right behind the upgrade request.
   */
  release(options: { keepPending?: boolean } = {}): Socket {
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.off('error', this.#onError);
    this.#socket.pause();
    if (this.#buffer.length > 0) {
      if (options.keepPending) {
        this.#socket.unshift(this.#buffer);
        this.#buffer = Buffer.alloc(0);
      } else {
        // Bytes before our ClientHello would be fed to the TLS layer as garbage (or, worse, be an
        // injected plaintext response: the CVE-2011-0411 class of STARTTLS command injection).
        throw new StartTlsError(
          'protocol',
          'the server sent data after agreeing to STARTTLS and before the TLS handshake',
        );
      }
    }
    return this.#socket;
  }
}
