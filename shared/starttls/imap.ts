/** IMAP STARTTLS (RFC 3501 §6.2.1, RFC 9051): greeting, CAPABILITY unless the greeting lists it, STARTTLS. */
import { type SocketReader, StartTlsError } from './reader.ts';

async function readTagged(
  reader: SocketReader,
  tag: string,
): Promise<{ status: string; untagged: string[]; line: string }> {
  const untagged: string[] = [];
  for (;;) {
    const line = await reader.readLine();
    if (line.startsWith(`${tag} `)) {
      const status =
        line
          .slice(tag.length + 1)
          .split(' ', 1)[0]
          ?.toUpperCase() ?? '';
      return { status, untagged, line };
    }
    untagged.push(line);
  }
}

function listsStartTls(line: string): boolean {
  return /\bCAPABILITY\b[^\]]*\bSTARTTLS\b/i.test(line);
}

/** Runs the IMAP dialogue; resolves when the server said `OK` to STARTTLS. */
export async function imapStartTls(reader: SocketReader): Promise<void> {
  const greeting = await reader.readLine();
  if (/^\* BYE\b/i.test(greeting))
    throw new StartTlsError('refused', 'the IMAP server said BYE in its greeting', greeting);
  if (/^\* PREAUTH\b/i.test(greeting)) {
    throw new StartTlsError(
      'not-offered',
      'the IMAP server pre-authenticated the session, STARTTLS is not allowed',
      greeting,
    );
  }
  if (!/^\* OK\b/i.test(greeting))
    throw new StartTlsError('protocol', 'the server did not greet like an IMAP server', greeting);
  if (!listsStartTls(greeting)) {
    reader.write('W1 CAPABILITY\r\n');
    const capability = await readTagged(reader, 'W1');
    if (capability.status !== 'OK')
      throw new StartTlsError('protocol', 'the IMAP server rejected CAPABILITY', capability.line);
    if (!capability.untagged.some(listsStartTls)) {
      throw new StartTlsError(
        'not-offered',
        'the IMAP server does not list STARTTLS in its capabilities',
        capability.untagged.join(' | '),
      );
    }
  }
  reader.write('W2 STARTTLS\r\n');
  const answer = await readTagged(reader, 'W2');
  if (answer.status !== 'OK')
    throw new StartTlsError('refused', 'the IMAP server refused STARTTLS', answer.line);
}
