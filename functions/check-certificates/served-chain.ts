/**
 * The served chain exactly as sent. Node's `getPeerCertificate(true)` reports only the issuer chain
 * it walks from the leaf: a served certificate that is not on that walk is dropped — including a
 * renewed intermediate sent after an expired one with the same name and key, which is the one
 * clients actually use. When that ambiguity matters, the job handshakes once more with TLS 1.2,
 * where the Certificate message is plaintext, and reads the list from the wire.
 */
import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

const HANDSHAKE_RECORD = 22;
const CERTIFICATE_MESSAGE = 11;
const MAX_RECORDED = 256 * 1024;

/** A pass-through stream that keeps the first bytes the server sends. */
export class RecordingSocket extends Duplex {
  readonly #inner: Socket;
  #received: Buffer[] = [];
  #size = 0;

  constructor(inner: Socket) {
    super();
    this.#inner = inner;
    inner.on('data', (chunk: Buffer) => {
      if (this.#size < MAX_RECORDED) {
        this.#received.push(chunk);
        this.#size += chunk.length;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (error) => this.destroy(error));
    inner.on('close', () => this.destroy());
  }

  /** What the server sent so far. */
  get received(): Buffer {
    return Buffer.concat(this.#received);
  }

  override _read(): void {
    this.#inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#inner.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#inner.destroy();
    callback(error);
  }
}

/**
 * The DER certificates of the first TLS 1.2 Certificate handshake message in `bytes` (server to
 * client), in the order sent; undefined when there is none (TLS 1.3 encrypts it).
 */
export function parseTls12Certificates(bytes: Buffer): Buffer[] | undefined {
  // Handshake messages may be split across records and records may hold several messages.
  const handshake: Buffer[] = [];
  for (let offset = 0; offset + 5 <= bytes.length; ) {
    const type = bytes[offset];
    const length = bytes.readUInt16BE(offset + 3);
    if (offset + 5 + length > bytes.length) break;
    if (type === HANDSHAKE_RECORD) handshake.push(bytes.subarray(offset + 5, offset + 5 + length));
    else if (type !== 20 && type !== 21) break; // anything but ChangeCipherSpec/alert: encrypted from here on
    offset += 5 + length;
  }
  const stream = Buffer.concat(handshake);
  for (let offset = 0; offset + 4 <= stream.length; ) {
    const type = stream[offset];
    const length = stream.readUIntBE(offset + 1, 3);
    const body = stream.subarray(offset + 4, offset + 4 + length);
    if (body.length < length) return undefined;
    if (type === CERTIFICATE_MESSAGE) {
      const certificates: Buffer[] = [];
      const total = body.readUIntBE(0, 3);
      for (let position = 3; position + 3 <= 3 + total && position + 3 <= body.length; ) {
        const size = body.readUIntBE(position, 3);
        certificates.push(body.subarray(position + 3, position + 3 + size));
        position += 3 + size;
      }
      return certificates;
    }
    offset += 4 + length;
  }
  return undefined;
}

/**
 * Whether Node's issuer walk may have hidden a served certificate that matters: it reports the
 * leaf alone although the leaf is not self-issued (the server may have sent a wrong intermediate),
 * or it picked a CA certificate that is not valid now (a valid one with the same name may have
 * been sent too).
 */
export function servedChainAmbiguous(served: readonly X509Certificate[], now: Date): boolean {
  const [leaf] = served;
  if (leaf && served.length === 1 && leaf.subject !== leaf.issuer) return true;
  return served
    .slice(1)
    .some((certificate) => new Date(certificate.validTo) < now || new Date(certificate.validFrom) > now);
}
