/** Reading the Certificate message of a TLS 1.2 handshake from raw server bytes. */
import { describe, expect, it } from 'vitest';
import { parseTls12Certificates } from '#functions/check-certificates/served-chain.ts';

function record(type: number, body: Buffer): Buffer {
  const header = Buffer.from([type, 0x03, 0x03, 0, 0]);
  header.writeUInt16BE(body.length, 3);
  return Buffer.concat([header, body]);
}

function message(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([header, body]);
}

function certificateMessage(certificates: Buffer[]): Buffer {
  const entries = certificates.map((der) => {
    const length = Buffer.alloc(3);
    length.writeUIntBE(der.length, 0, 3);
    return Buffer.concat([length, der]);
  });
  const list = Buffer.concat(entries);
  const total = Buffer.alloc(3);
  total.writeUIntBE(list.length, 0, 3);
  return message(11, Buffer.concat([total, list]));
}

describe('parseTls12Certificates', () => {
  const first = Buffer.from('first certificate');
  const second = Buffer.from('second one');

  it('finds the certificates after ServerHello, in the order sent', () => {
    const stream = Buffer.concat([message(2, Buffer.alloc(40)), certificateMessage([first, second])]);
    expect(parseTls12Certificates(record(22, stream))).toEqual([first, second]);
  });

  it('reassembles a Certificate message split across records', () => {
    const stream = Buffer.concat([message(2, Buffer.alloc(40)), certificateMessage([first, second])]);
    const bytes = Buffer.concat([record(22, stream.subarray(0, 50)), record(22, stream.subarray(50))]);
    expect(parseTls12Certificates(bytes)).toEqual([first, second]);
  });

  it('finds nothing in a TLS 1.3 handshake, where the certificates are encrypted', () => {
    const bytes = Buffer.concat([
      record(22, message(2, Buffer.alloc(40))),
      record(20, Buffer.from([1])),
      record(23, Buffer.alloc(300)),
    ]);
    expect(parseTls12Certificates(bytes)).toBeUndefined();
  });
});
