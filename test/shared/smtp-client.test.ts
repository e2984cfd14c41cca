import { createServer, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeaf } from '#sandbox/pki.ts';
import { type RunningSmtpServer, startSmtpServer } from '#sandbox/smtp-server.ts';
import { SmtpClient } from '#shared/smtp/client.ts';
import { SmtpError } from '#shared/smtp/errors.ts';
import { authMechanisms, parseEhloReply, ReplyParser, supports } from '#shared/smtp/reply.ts';

describe('ReplyParser', () => {
  it('assembles a multi-line reply delivered one byte at a time', () => {
    const parser = new ReplyParser();
    const wire = Buffer.from('250-mx.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n');
    const replies = [...wire].flatMap((byte) => parser.push(Buffer.from([byte])));
    expect(replies).toEqual([{ code: 250, lines: ['mx.example.test', 'PIPELINING', 'STARTTLS'] }]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it('returns every reply in one chunk, accepts bare LF and a code-only final line', () => {
    const parser = new ReplyParser();
    const replies = parser.push(Buffer.from('220-first\n220 second\r\n250\r\n221 2.0.0 Bye\r\n'));
    expect(replies).toEqual([
      { code: 220, lines: ['first', 'second'] },
      { code: 250, lines: [''] },
      { code: 221, lines: ['2.0.0 Bye'] },
    ]);
  });

  it('keeps an unfinished multi-line reply until its final line arrives', () => {
    const parser = new ReplyParser();
    expect(parser.push(Buffer.from('220-greeting pause\r\n'))).toEqual([]);
    expect(parser.bufferedBytes).toBeGreaterThan(0);
    expect(parser.push(Buffer.from('220 ready\r\n'))).toEqual([
      { code: 220, lines: ['greeting pause', 'ready'] },
    ]);
  });

  it('rejects a code that changes inside a multi-line reply', () => {
    const parser = new ReplyParser();
    expect(() => parser.push(Buffer.from('250-a\r\n251 b\r\n'))).toThrow(
      /changed the reply code from 250 to 251/,
    );
  });

  it('rejects a line that is not a reply', () => {
    expect(() => new ReplyParser().push(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow(SmtpError);
  });
});

describe('parseEhloReply', () => {
  it('finds STARTTLS on the final line and folds AUTH= into AUTH', () => {
    const capabilities = parseEhloReply({
      code: 250,
      lines: [
        'MX.Example.Test. Hello',
        'PIPELINING',
        'AUTH=LOGIN',
        'AUTH PLAIN LOGIN',
        'SIZE 1000',
        'STARTTLS',
      ],
    });
    expect(capabilities.domain).toBe('mx.example.test');
    expect(supports(capabilities, 'starttls')).toBe(true);
    expect(authMechanisms(capabilities)).toEqual(['LOGIN', 'PLAIN']);
    expect(capabilities.extensions.get('SIZE')).toEqual(['1000']);
  });
});

describe('SmtpClient against a loopback server', () => {
  let certificate: { key: string; cert: string };
  const servers: RunningSmtpServer[] = [];
  const start = async (options: Parameters<typeof startSmtpServer>[0]) => {
    const server = await startSmtpServer(options);
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    const leaf = await createLeaf(['mx.example.test'], undefined);
    certificate = { key: leaf.keyPair.privateKeyPem, cert: leaf.pem };
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('waits for the final line of a multi-line greeting before EHLO', async () => {
    const server = await start({
      bannerLines: ['ESMTP Postfix', 'no UCE', 'greet pause'],
      greetingDelayMs: 50,
    });
    const smtp = await SmtpClient.connect({ host: server.host, port: server.port, timeoutMs: 5_000 });
    const greeting = await smtp.greeting();
    expect(greeting.reply).toEqual({
      code: 220,
      lines: ['mx.example.test ESMTP Postfix', 'no UCE', 'greet pause'],
    });
    expect(greeting.domain).toBe('mx.example.test');
    const { capabilities } = await smtp.ehlo('probe.example.net');
    expect(capabilities?.domain).toBe('mx.example.test');
    expect(await smtp.quit()).toMatchObject({ code: 221 });
    expect(server.commands.map((command) => command.line)).toEqual(['EHLO probe.example.net', 'QUIT']);
  });

  it('upgrades with STARTTLS listed last and sees AUTH only over TLS', async () => {
    const server = await start({ tls: certificate, starttlsLast: true });
    const smtp = await SmtpClient.connect({ host: server.host, port: server.port, timeoutMs: 5_000 });
    await smtp.greeting();
    const before = await smtp.ehlo('probe.example.net');
    expect(before.reply.lines.at(-1)).toBe('STARTTLS');
    expect(before.capabilities && supports(before.capabilities, 'STARTTLS')).toBe(true);
    expect(before.capabilities && authMechanisms(before.capabilities)).toEqual([]);
    const started = await smtp.startTls({ ca: certificate.cert, servername: 'mx.example.test' });
    expect(started.accepted).toBe(true);
    expect(smtp.secure).toBe(true);
    const after = await smtp.ehlo('probe.example.net');
    expect(after.capabilities && authMechanisms(after.capabilities)).toEqual(['PLAIN', 'LOGIN']);
    expect(after.capabilities && supports(after.capabilities, 'STARTTLS')).toBe(false);
    await smtp.quit();
    expect(server.commands.map((command) => [command.line, command.tls])).toEqual([
      ['EHLO probe.example.net', false],
      ['STARTTLS', false],
      ['EHLO probe.example.net', true],
      ['QUIT', true],
    ]);
  });

  it('hands over the plain socket after STARTTLS for the caller to upgrade', async () => {
    const server = await start({ tls: certificate });
    const smtp = await SmtpClient.connect({ host: server.host, port: server.port, timeoutMs: 5_000 });
    await smtp.greeting();
    await smtp.ehlo('probe.example.net');
    const started = await smtp.startTlsSocket();
    if (!started.accepted) throw new Error('STARTTLS refused');
    const secure = tlsConnect({
      socket: started.socket,
      servername: 'mx.example.test',
      rejectUnauthorized: false,
    });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    expect(secure.getPeerCertificate().subject?.CN).toBe('mx.example.test');
    secure.destroy();
    smtp.close(); // must not destroy the socket it handed over twice, nor throw
    expect(() => smtp.send('NOOP')).toThrow(/handed over/);
  });

  it('reports a refused STARTTLS as not accepted, keeping the conversation usable', async () => {
    const server = await start({});
    const smtp = await SmtpClient.connect({ host: server.host, port: server.port, timeoutMs: 5_000 });
    await smtp.greeting();
    await smtp.ehlo('probe.example.net');
    const started = await smtp.startTls();
    expect(started).toMatchObject({ accepted: false, reply: { code: 502 } });
    expect((await smtp.rset()).code).toBe(250);
    await smtp.quit();
  });

  it('fails a TLS handshake against an untrusted certificate with kind tls', async () => {
    const server = await start({ tls: certificate });
    const smtp = await SmtpClient.connect({ host: server.host, port: server.port, timeoutMs: 5_000 });
    await smtp.greeting();
    await smtp.ehlo('probe.example.net');
    await expect(smtp.startTls({ servername: 'mx.example.test' })).rejects.toMatchObject({
      kind: 'tls',
      stage: 'tls',
    });
    smtp.close();
  });

  it('speaks implicit TLS (port 465 style)', async () => {
    const server = await start({ tls: certificate, implicitTls: true });
    const smtp = await SmtpClient.connect({
      host: server.host,
      port: server.port,
      timeoutMs: 5_000,
      tls: { rejectUnauthorized: false, servername: 'mx.example.test' },
    });
    expect(smtp.secure).toBe(true);
    expect((await smtp.greeting()).reply.code).toBe(220);
    const { capabilities } = await smtp.ehlo('probe.example.net');
    expect(capabilities && authMechanisms(capabilities)).toEqual(['PLAIN', 'LOGIN']);
    await smtp.quit();
  });

  it('rejects with kind closed when the server drops the connection mid-conversation', async () => {
    const server = await start({ closeOnCommand: 'MAIL' });
    const smtp = await SmtpClient.connect({ host: server.host, port: server.port, timeoutMs: 5_000 });
    await smtp.greeting();
    await smtp.ehlo('probe.example.net');
    await expect(smtp.command('MAIL FROM:<probe@example.net>')).rejects.toMatchObject({
      kind: 'closed',
      stage: 'MAIL',
    });
    expect(await smtp.quit()).toBeUndefined();
  });

  it('times out waiting for a greeting that never comes', async () => {
    const server = await start({ silent: true });
    const smtp = await SmtpClient.connect({ host: server.host, port: server.port, timeoutMs: 5_000 });
    await expect(smtp.greeting(100)).rejects.toMatchObject({ kind: 'timeout', stage: 'greeting' });
    await expect(smtp.command('NOOP')).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('rejects with kind connect when nothing listens', async () => {
    const probe: Server = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    if (address === null || typeof address === 'string') throw new Error('no port');
    await expect(SmtpClient.connect({ host: '127.0.0.1', port: address.port })).rejects.toMatchObject({
      kind: 'connect',
      stage: 'connect',
    });
  });

  it('aborts a pending reply when the signal fires', async () => {
    const server = await start({ silent: true });
    const controller = new AbortController();
    const smtp = await SmtpClient.connect({
      host: server.host,
      port: server.port,
      signal: controller.signal,
    });
    const pending = smtp.greeting();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
  });

  it('refuses a command with a line break (no command injection)', async () => {
    const server = await start({});
    const smtp = await SmtpClient.connect({ host: server.host, port: server.port });
    await smtp.greeting();
    expect(() => smtp.send('RCPT TO:<a@example.net>\r\nDATA')).toThrow(/line break/);
    await smtp.quit();
    expect(server.commands.map((command) => command.line)).toEqual(['QUIT']);
  });
});
