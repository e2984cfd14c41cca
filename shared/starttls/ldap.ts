/**
 * LDAP StartTLS (RFC 4511 §4.14): an ExtendedRequest with OID 1.3.6.1.4.1.1466.20037, then an
 * ExtendedResponse whose resultCode must be success (0). BER is encoded and decoded by hand: the
 * two messages are fixed and small, and an LDAP library would be far larger than this.
 */
import { type SocketReader, StartTlsError } from './reader.ts';

/** The StartTLS extended operation's OID. */
export const LDAP_STARTTLS_OID = '1.3.6.1.4.1.1466.20037';

/** A decoded BER element (tag, contents) and its total encoded length. */
export interface BerElement {
  tag: number;
  contents: Buffer;
  length: number;
}

/** Decodes the BER element at `offset`; undefined when the buffer does not hold all of it yet. */
export function readBer(buffer: Buffer, offset = 0): BerElement | undefined {
  const tag = buffer[offset];
  const first = buffer[offset + 1];
  if (tag === undefined || first === undefined) return undefined;
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4)
      throw new StartTlsError('protocol', 'the LDAP server sent an unsupported BER length');
    if (buffer.length < offset + 2 + count) return undefined;
    length = buffer.readUIntBE(offset + 2, count);
    header += count;
  }
  if (buffer.length < offset + header + length) return undefined;
  return {
    tag,
    contents: buffer.subarray(offset + header, offset + header + length),
    length: header + length,
  };
}

/** Encodes one BER element (short or long length form). */
export function ber(tag: number, contents: Buffer): Buffer {
  const length =
    contents.length < 0x80
      ? Buffer.from([contents.length])
      : contents.length < 0x100
        ? Buffer.from([0x81, contents.length])
        : Buffer.from([0x82, contents.length >> 8, contents.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, contents]);
}

/** The LDAPMessage carrying the StartTLS ExtendedRequest. */
export function ldapStartTlsRequest(messageId = 1): Buffer {
  const request = ber(0x77, ber(0x80, Buffer.from(LDAP_STARTTLS_OID, 'latin1')));
  return ber(0x30, Buffer.concat([ber(0x02, Buffer.from([messageId])), request]));
}

/** The children of a constructed element. */
export function berChildren(contents: Buffer): BerElement[] {
  const children: BerElement[] = [];
  for (let offset = 0; offset < contents.length; ) {
    const child = readBer(contents, offset);
    if (!child) throw new StartTlsError('protocol', 'the LDAP server sent a malformed BER element');
    children.push(child);
    offset += child.length;
  }
  return children;
}

/** Sends the StartTLS request; resolves when the server answered success. */
export async function ldapStartTls(reader: SocketReader): Promise<void> {
  reader.write(ldapStartTlsRequest(1));
  const raw = await reader.readUntil((buffer) => readBer(buffer)?.length ?? -1);
  const message = readBer(raw);
  if (message?.tag !== 0x30)
    throw new StartTlsError('protocol', 'the server did not answer with an LDAPMessage');
  const [, operation] = berChildren(message.contents);
  // 0x78 ExtendedResponse; a Notice of Disconnection is also an ExtendedResponse (message id 0).
  if (operation?.tag !== 0x78) {
    throw new StartTlsError(
      'protocol',
      `the LDAP server answered with operation tag 0x${(operation?.tag ?? 0).toString(16)}`,
    );
  }
  const [resultCode, , diagnostic] = berChildren(operation.contents);
  const code = resultCode?.contents[resultCode.contents.length - 1] ?? -1;
  if (code === 0) return;
  const text = diagnostic?.contents.toString('utf8') ?? '';
  // 2 protocolError / 12 unavailableCriticalExtension: the server does not implement StartTLS.
  const reason = code === 2 || code === 12 ? 'not-offered' : 'refused';
  throw new StartTlsError(
    reason,
    `the LDAP server answered StartTLS with resultCode ${code}${text ? ` (${text})` : ''}`,
    text,
  );
}
