/**
 * XMPP STARTTLS (RFC 6120 §5): open a stream to the domain, read `<stream:features>`, send
 * `<starttls/>`, expect `<proceed/>`. The stanzas involved are fixed, so they are matched rather than
 * run through an XML parser; the server's stream header may use either quote style.
 */
import { type SocketReader, StartTlsError } from './reader.ts';

const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';

/** Which stream to open: client-to-server (5222) or server-to-server (5269). */
export type XmppStreamKind = 'client' | 'server';

function takeThrough(pattern: RegExp): (buffer: Buffer) => number {
  return (buffer) => {
    const match = pattern.exec(buffer.toString('utf8'));
    return match ? Buffer.byteLength(buffer.toString('utf8').slice(0, match.index + match[0].length)) : -1;
  };
}

/** Runs the XMPP dialogue for `domain`; resolves when the server said `<proceed/>`. */
export async function xmppStartTls(
  reader: SocketReader,
  domain: string,
  kind: XmppStreamKind = 'client',
): Promise<void> {
  reader.write(
    `<?xml version='1.0'?><stream:stream to='${domain.replace(/[^\w.-]/g, '')}' version='1.0' xmlns='jabber:${kind}' xmlns:stream='http://etherx.jabber.org/streams'>`,
  );
  const opening = (
    await reader.readUntil(
      takeThrough(
        /<\/stream:features>|<stream:features\s*\/>|<\/stream:stream>|<stream:error>[\s\S]*?<\/stream:error>/,
      ),
    )
  ).toString('utf8');
  if (/<stream:error>/.test(opening) || /<\/stream:stream>/.test(opening)) {
    const condition = /<stream:error>\s*<([\w-]+)/.exec(opening)?.[1] ?? 'unknown';
    throw new StartTlsError('refused', `the XMPP server closed the stream (${condition})`, condition);
  }
  if (!/<stream:stream\b/.test(opening))
    throw new StartTlsError('protocol', 'the server did not open an XMPP stream');
  if (!new RegExp(`<starttls[^>]*xmlns=['"]${TLS_NS}['"]`).test(opening)) {
    throw new StartTlsError('not-offered', 'the XMPP server does not offer STARTTLS in its stream features');
  }
  reader.write(`<starttls xmlns='${TLS_NS}'/>`);
  const answer = (
    await reader.readUntil(takeThrough(/<(proceed|failure)\b[^>]*?(\/>|>[\s\S]*?<\/\1>)/))
  ).toString('utf8');
  if (!answer.includes('<proceed'))
    throw new StartTlsError('refused', 'the XMPP server answered STARTTLS with <failure/>');
}
