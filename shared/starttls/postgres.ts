/** PostgreSQL SSLRequest (protocol docs §55.2.10): 8 bytes, then one byte `S` (go) or `N` (no SSL). */
import { type SocketReader, StartTlsError } from './reader.ts';

/** The SSLRequest message: length 8, code 80877103. */
export const POSTGRES_SSL_REQUEST = Buffer.from([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]);

/** Sends SSLRequest; resolves when the server answered `S`. */
export async function postgresStartTls(reader: SocketReader): Promise<void> {
  reader.write(POSTGRES_SSL_REQUEST);
  const answer = (await reader.readBytes(1))[0];
  if (answer === 0x53) return;
  if (answer === 0x4e)
    throw new StartTlsError(
      'not-offered',
      'the PostgreSQL server does not accept SSL (answered N; ssl = off)',
    );
  if (answer === 0x45)
    throw new StartTlsError('refused', 'the PostgreSQL server answered the SSLRequest with an error message');
  throw new StartTlsError(
    'protocol',
    `the server answered the SSLRequest with byte 0x${(answer ?? 0).toString(16)}, not S or N`,
  );
}
