/**
 * SMTP STARTTLS (RFC 3207) over a `SocketReader`, with shared/smtp's reply parser: the greeting may
 * be multi-line (`220-` ... `220 `, postscreen), and STARTTLS may be the final `250 STARTTLS` line.
 */
import {
  type EhloCapabilities,
  parseEhloReply,
  ReplyParser,
  type SmtpReply,
  supports,
} from '../smtp/reply.ts';
import { type SocketReader, StartTlsError } from './reader.ts';

async function readReply(reader: SocketReader, parser: ReplyParser): Promise<SmtpReply> {
  for (;;) {
    const [reply] = parser.push(Buffer.from(`${await reader.readLine()}\r\n`, 'latin1'));
    if (reply) return reply;
  }
}

function text(reply: SmtpReply): string {
  return `${reply.code} ${reply.lines.join(' / ')}`;
}

/** Runs greeting, EHLO and STARTTLS; resolves with the EHLO capabilities once the server said 220. */
export async function smtpStartTls(reader: SocketReader, ehloName: string): Promise<EhloCapabilities> {
  const parser = new ReplyParser();
  let greeting: SmtpReply;
  let ehlo: SmtpReply;
  let answer: SmtpReply;
  try {
    greeting = await readReply(reader, parser);
    if (greeting.code !== 220) {
      throw new StartTlsError(
        'refused',
        `the SMTP server greeted with ${greeting.code}, not 220`,
        text(greeting),
      );
    }
    reader.write(`EHLO ${ehloName}\r\n`);
    ehlo = await readReply(reader, parser);
    if (ehlo.code !== 250)
      throw new StartTlsError('not-offered', `the SMTP server answered EHLO with ${ehlo.code}`, text(ehlo));
    const capabilities = parseEhloReply(ehlo);
    if (!supports(capabilities, 'STARTTLS')) {
      throw new StartTlsError(
        'not-offered',
        'the SMTP server does not offer STARTTLS in its EHLO reply',
        text(ehlo),
      );
    }
    reader.write('STARTTLS\r\n');
    answer = await readReply(reader, parser);
    if (answer.code !== 220)
      throw new StartTlsError(
        'refused',
        `the SMTP server answered STARTTLS with ${answer.code}`,
        text(answer),
      );
    return capabilities;
  } catch (error) {
    if (error instanceof StartTlsError) throw error;
    // ReplyParser throws SmtpError on malformed lines: for us that is a protocol error.
    throw new StartTlsError(
      'protocol',
      `the server does not speak SMTP correctly: ${(error as Error).message}`,
      undefined,
      {
        cause: error,
      },
    );
  }
}
