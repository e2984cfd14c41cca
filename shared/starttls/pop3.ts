/** POP3 STLS (RFC 2595 §4): greeting, CAPA (optional in old servers), STLS. */
import { type SocketReader, StartTlsError } from './reader.ts';

/** Runs the POP3 dialogue; resolves when the server said `+OK` to STLS. */
export async function pop3StartTls(reader: SocketReader): Promise<void> {
  const greeting = await reader.readLine();
  if (!greeting.startsWith('+OK'))
    throw new StartTlsError('protocol', 'the server did not greet like a POP3 server', greeting);
  reader.write('CAPA\r\n');
  const capa = await reader.readLine();
  if (capa.startsWith('+OK')) {
    const capabilities: string[] = [];
    for (let line = await reader.readLine(); line !== '.'; line = await reader.readLine())
      capabilities.push(line);
    if (!capabilities.some((line) => /^STLS\b/i.test(line))) {
      throw new StartTlsError(
        'not-offered',
        'the POP3 server does not list STLS in CAPA',
        capabilities.join(' | '),
      );
    }
  }
  // Servers without CAPA (RFC 1939 only) answer -ERR; STLS may still work, so try it.
  reader.write('STLS\r\n');
  const answer = await reader.readLine();
  if (!answer.startsWith('+OK')) {
    throw new StartTlsError(
      capa.startsWith('+OK') ? 'refused' : 'not-offered',
      'the POP3 server refused STLS',
      answer,
    );
  }
}
