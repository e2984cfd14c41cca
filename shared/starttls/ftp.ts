/** FTP AUTH TLS (RFC 4217 §4): multi-line 220 greeting, `AUTH TLS`, expect 234. */
import { type SocketReader, StartTlsError } from './reader.ts';

/** Reads one FTP reply, multi-line ones included (`220-` ... `220 `; RFC 959 §4.2). */
export async function readFtpReply(reader: SocketReader): Promise<{ code: number; lines: string[] }> {
  const first = await reader.readLine();
  const match = /^(\d{3})([ -])/.exec(first);
  if (!match?.[1]) throw new StartTlsError('protocol', 'the server did not answer like an FTP server', first);
  const lines = [first];
  if (match[2] === '-') {
    // Intermediate lines may be anything, even start with digits; only "<same code><space>" ends it.
    for (let line = await reader.readLine(); ; line = await reader.readLine()) {
      lines.push(line);
      if (line.startsWith(`${match[1]} `)) break;
    }
  }
  return { code: Number(match[1]), lines };
}

/** Runs the FTP dialogue; resolves when the server answered 234 to AUTH TLS. */
export async function ftpStartTls(reader: SocketReader): Promise<void> {
  const greeting = await readFtpReply(reader);
  if (greeting.code !== 220) {
    throw new StartTlsError(
      'refused',
      `the FTP server greeted with ${greeting.code}, not 220`,
      greeting.lines.join(' | '),
    );
  }
  reader.write('AUTH TLS\r\n');
  const answer = await readFtpReply(reader);
  if (answer.code === 234) return;
  // 530 is what vsftpd answers when ssl_enable is off.
  const reason = [500, 502, 504, 530, 534].includes(answer.code) ? 'not-offered' : 'refused';
  throw new StartTlsError(
    reason,
    `the FTP server answered ${answer.code} to AUTH TLS`,
    answer.lines.join(' | '),
  );
}
