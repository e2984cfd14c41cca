import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-mail-servers/job.ts';
import { type RunningDnsServer, startDnsServer, type ZoneRecord } from '#sandbox/dns-server.ts';
import { createLeaf } from '#sandbox/pki.ts';
import { type RunningSmtpServer, type SmtpServerOptions, startSmtpServer } from '#sandbox/smtp-server.ts';
import { reverseLookupName } from '#shared/dns/names.ts';
import type { Finding } from '#shared/findings.ts';
import { testContext } from '../support/context.ts';

const ptr = (octet: number, name: string): ZoneRecord => ({
  name: `${octet}.0.0.127.in-addr.arpa`,
  type: 'PTR',
  data: name,
});

const records: ZoneRecord[] = [
  ...Array.from({ length: 24 }, (_, index) => ptr(index + 2, `mx${index + 2}.example.test`)),
  { name: 'mx2.example.test', type: 'A', data: '127.0.0.2' },
  { name: 'mx3.example.test', type: 'A', data: '127.0.0.3' },
  { name: 'example.test', type: 'MX', data: { preference: 10, exchange: 'mx2.example.test' } },
  { name: 'example.test', type: 'MX', data: { preference: 20, exchange: 'mx3.example.test' } },
  { name: 'nomx.example.test', type: 'TXT', data: 'v=spf1 -all' },
  { name: 'dual.example.test', type: 'A', data: '127.0.0.23' },
  { name: 'dual.example.test', type: 'AAAA', data: '::1' },
  { name: reverseLookupName('::1'), type: 'PTR', data: 'mx23.example.test' },
];

let dns: RunningDnsServer;
let tls: { key: string; cert: string };
const running: RunningSmtpServer[] = [];

beforeAll(async () => {
  dns = await startDnsServer({
    records,
    misbehaviours: [
      { name: 'broken.example.test', action: 'servfail' },
      { name: '30.0.0.127.in-addr.arpa', action: 'servfail' },
    ],
  });
  const leaf = await createLeaf(['mx.example.test'], undefined);
  tls = { key: leaf.keyPair.privateKeyPem, cert: leaf.pem };
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});
afterAll(async () => {
  await dns.close();
});

/** Starts a sandbox server on 127.0.0.<octet> whose names match that address's PTR by default. */
async function server(octet: number, options: SmtpServerOptions = {}): Promise<RunningSmtpServer> {
  const started = await startSmtpServer({
    host: `127.0.0.${octet}`,
    hostname: `mx${octet}.example.test`,
    tls,
    ...options,
  });
  running.push(started);
  return started;
}

async function run(section: Record<string, unknown>, options: { inLambda?: boolean } = {}) {
  const context = testContext(definition, { resolver: dns.address, ...section }, options);
  const outcome = await definition.run(context);
  return { ...outcome, logs: context.logs };
}

const codes = (findings: Finding[]) =>
  findings.map((finding) => `${finding.code}:${finding.severity}`).sort();
const lines = (smtp: RunningSmtpServer) => smtp.commands.map((command) => command.line);

describe('check-mail-servers against loopback SMTP servers', () => {
  it('reports a correct server as ok after EHLO, STARTTLS, a refused relay, RSET and QUIT — without DATA', async () => {
    const smtp = await server(2);
    const { findings, stats } = await run({
      servers: [{ host: 'mx2.example.test', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.ok:ok']);
    expect(findings[0]).toMatchObject({ target: `mx2.example.test:${smtp.port}`, subject: '127.0.0.2' });
    expect(findings[0]?.data).toMatchObject({
      banner: 'mx2.example.test',
      ptrNames: ['mx2.example.test'],
      relay: { verdict: 'closed' },
    });
    expect(findings[0]?.message).toMatch(/refuses to relay/);
    expect(lines(smtp)).toEqual([
      'EHLO watchkeeper-probe.example.net',
      'STARTTLS',
      'EHLO watchkeeper-probe.example.net',
      'MAIL FROM:<watchkeeper-probe@example.org>',
      'RCPT TO:<relay-test@example.net>',
      'RSET',
      'QUIT',
    ]);
    expect(smtp.messagesReceived).toBe(0);
    expect(stats).toMatchObject({ servers: 1, conversations: 1, openRelays: 0, healthy: 1 });
  });

  it('flags an open relay as critical and proves that no DATA was sent', async () => {
    const smtp = await server(3, { openRelay: true });
    const { findings } = await run({
      servers: [{ host: '127.0.0.3', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.open-relay:critical']);
    expect(findings[0]?.message).toMatch(/is an open relay/);
    expect(findings[0]?.data).toMatchObject({
      relay: { verdict: 'open', decidedBy: 'RCPT', reply: '250 2.1.5 Ok' },
    });
    const sent = lines(smtp);
    expect(sent).toContain('RCPT TO:<relay-test@example.net>');
    expect(sent.some((line) => /^DATA\b/i.test(line))).toBe(false);
    expect(sent.slice(-2)).toEqual(['RSET', 'QUIT']);
    expect(smtp.messagesReceived).toBe(0);
  });

  it('reads a slow multi-line greeting to its end and reports it as slow', async () => {
    const smtp = await server(4, { bannerLines: ['ESMTP', 'greet pause', 'ready'], greetingDelayMs: 300 });
    const { findings } = await run({
      slowBannerMs: 100,
      servers: [{ host: '127.0.0.4', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.slow-banner:warning']);
    expect(findings[0]?.data).toMatchObject({ greeting: ['mx4.example.test ESMTP', 'greet pause', 'ready'] });
    expect(lines(smtp)[0]).toBe('EHLO watchkeeper-probe.example.net');
  });

  it('sees STARTTLS when it is the last EHLO keyword', async () => {
    const smtp = await server(5, { starttlsLast: true });
    const { findings } = await run({
      servers: [{ host: '127.0.0.5', ports: [{ port: smtp.port, mode: 'submission' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.ok:ok']);
    expect(lines(smtp)).toContain('STARTTLS');
  });

  it('reports missing STARTTLS: a warning on an MX port, critical on submission', async () => {
    const mx = await server(6, { tls: undefined });
    const submission = await server(7, { tls: undefined });
    const { findings } = await run({
      servers: [
        { host: '127.0.0.6', ports: [{ port: mx.port, mode: 'mx' }] },
        { host: '127.0.0.7', ports: [{ port: submission.port, mode: 'submission' }] },
      ],
    });
    expect(codes(findings)).toEqual(['smtp.starttls-missing:critical', 'smtp.starttls-missing:warning']);
    expect(findings.find((finding) => finding.subject === '127.0.0.7')?.message).toMatch(/passwords/);
  });

  it('reports AUTH offered before STARTTLS on submission as critical', async () => {
    const smtp = await server(8, { authBeforeTls: true });
    const { findings } = await run({
      servers: [{ host: '127.0.0.8', ports: [{ port: smtp.port, mode: 'submission' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.auth-before-tls:critical']);
    expect(findings[0]?.data).toMatchObject({ mechanisms: ['PLAIN', 'LOGIN'] });
  });

  it('reports a server that closes mid-conversation, without claiming a relay verdict', async () => {
    const smtp = await server(9, { closeOnCommand: 'MAIL' });
    const { findings } = await run({
      servers: [{ host: '127.0.0.9', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.conversation-failed:warning']);
    expect(findings[0]?.message).toMatch(/broke off the conversation at MAIL .*including the relay test/);
  });

  it('reports banner and EHLO names that differ from the PTR record', async () => {
    const smtp = await server(10, { hostname: 'localhost.localdomain', ehloHostname: 'other.example.test' });
    const { findings } = await run({
      servers: [{ host: '127.0.0.10', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.banner-mismatch:warning']);
    expect(findings[0]?.message).toMatch(/banner names localhost.localdomain instead of mx10.example.test/);
    expect(findings[0]?.message).toMatch(/EHLO reply names other.example.test/);
  });

  it('reports a mismatch against expectedHostname and an address without PTR', async () => {
    const expected = await server(11);
    const noPtr = await startSmtpServer({ host: '127.0.0.40', hostname: 'mx40.example.test', tls });
    running.push(noPtr);
    const { findings } = await run({
      servers: [
        {
          host: '127.0.0.11',
          expectedHostname: 'mail.example.test',
          ports: [{ port: expected.port, mode: 'mx' }],
        },
        { host: '127.0.0.40', ports: [{ port: noPtr.port, mode: 'mx' }] },
      ],
    });
    expect(codes(findings)).toEqual(['smtp.banner-mismatch:warning', 'smtp.banner-mismatch:warning']);
    expect(findings.find((finding) => finding.subject === '127.0.0.11')?.message).toMatch(
      /PTR record of 127.0.0.11 is mx11.example.test, not mail.example.test/,
    );
    expect(findings.find((finding) => finding.subject === '127.0.0.40')?.message).toMatch(
      /has no PTR record/,
    );
  });

  it('reports a PTR lookup failure as unknown, never as healthy', async () => {
    const smtp = await startSmtpServer({ host: '127.0.0.30', hostname: 'mx30.example.test', tls });
    running.push(smtp);
    const { findings } = await run({
      servers: [{ host: '127.0.0.30', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['dns.lookup-failed:unknown']);
  });

  it('probes every MX of a domain, in preference order', async () => {
    const first = await server(2);
    // Both MX hosts share a port number only by chance, so give mx3 the same one explicitly.
    const second = await server(3, { port: first.port, openRelay: true });
    const { findings, stats } = await run({
      servers: [{ domain: 'example.test', ports: [{ port: first.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.ok:ok', 'smtp.open-relay:critical'].sort());
    expect(findings.every((finding) => finding.data?.['domain'] === 'example.test')).toBe(true);
    expect(findings.find((finding) => finding.code === 'smtp.open-relay')?.target).toBe(
      `mx3.example.test:${first.port}`,
    );
    expect(second.messagesReceived + first.messagesReceived).toBe(0);
    expect(stats).toMatchObject({ servers: 1, conversations: 2 });
  });

  it('reports a domain without MX, and a failed MX lookup as unknown', async () => {
    const { findings } = await run({
      servers: [{ domain: 'nomx.example.test' }, { domain: 'broken.example.test' }],
    });
    expect(codes(findings)).toEqual(['dns.lookup-failed:unknown', 'mail.mx-missing:warning']);
  });

  it('reports refused connections and silent servers as unreachable', async () => {
    const silent = await server(12, { silent: true });
    const closed = await server(13);
    const closedPort = closed.port;
    await closed.close();
    running.splice(running.indexOf(closed), 1);
    const { findings } = await run({
      replyTimeoutMs: 200,
      servers: [
        { host: '127.0.0.12', ports: [{ port: silent.port, mode: 'mx' }] },
        { host: '127.0.0.13', ports: [{ port: closedPort, mode: 'mx' }] },
      ],
    });
    expect(codes(findings)).toEqual(['smtp.unreachable:critical', 'smtp.unreachable:critical']);
    expect(findings.find((finding) => finding.subject === '127.0.0.12')?.message).toMatch(
      /no complete greeting/,
    );
    expect(findings.find((finding) => finding.subject === '127.0.0.13')?.message).toMatch(/Cannot connect/);
  });

  it('reports a 554 greeting as the server refusing this probe', async () => {
    const smtp = await server(14, { greetingCode: 554, bannerLines: ['No SMTP service here'] });
    const { findings } = await run({
      servers: [{ host: '127.0.0.14', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.unreachable:warning']);
    expect(lines(smtp)).toEqual([]);
  });

  it('speaks implicit TLS on an smtps port', async () => {
    const smtp = await server(15, { implicitTls: true });
    const { findings } = await run({
      servers: [{ host: '127.0.0.15', ports: [{ port: smtp.port, mode: 'smtps' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.ok:ok']);
    expect(findings[0]?.data).toMatchObject({ tls: { implicit: true }, authAfterTls: ['PLAIN', 'LOGIN'] });
    expect(smtp.commands.every((command) => command.tls)).toBe(true);
  });

  it('reports a broken STARTTLS and still runs the relay test on a fresh connection', async () => {
    const smtp = await server(16, { brokenStartTls: true, openRelay: true });
    const { findings } = await run({
      servers: [{ host: '127.0.0.16', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.open-relay:critical', 'smtp.starttls-failed:warning']);
    expect(smtp.sessions).toBe(2);
    expect(lines(smtp).some((line) => /^DATA/i.test(line))).toBe(false);
  });

  it('treats a temporary RCPT error as inconclusive, and 530 to MAIL as a closed relay', async () => {
    const greylisting = await server(17, {
      relayReply: '450 4.2.0 <relay-test@example.net>: Recipient address rejected: Greylisted',
    });
    const authFirst = await server(18, { mailReply: '530 5.7.0 Authentication required' });
    const { findings } = await run({
      servers: [
        { host: '127.0.0.17', ports: [{ port: greylisting.port, mode: 'mx' }] },
        { host: '127.0.0.18', ports: [{ port: authFirst.port, mode: 'submission' }] },
      ],
    });
    expect(codes(findings)).toEqual(['smtp.ok:ok', 'smtp.relay-inconclusive:unknown']);
    expect(findings.find((finding) => finding.subject === '127.0.0.18')?.data).toMatchObject({
      relay: { verdict: 'closed', decidedBy: 'MAIL' },
    });
  });

  it('falls back to HELO for a server without ESMTP and reports the missing STARTTLS', async () => {
    const smtp = await server(19, { rejectEhlo: true });
    const { findings } = await run({
      servers: [{ host: '127.0.0.19', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.starttls-missing:warning']);
    expect(findings[0]?.message).toMatch(/does not even speak ESMTP/);
    expect(lines(smtp).slice(0, 2)).toEqual([
      'EHLO watchkeeper-probe.example.net',
      'HELO watchkeeper-probe.example.net',
    ]);
  });

  it('skips the relay test when relayTest is false', async () => {
    const smtp = await server(20, { openRelay: true });
    const { findings } = await run({
      servers: [{ host: '127.0.0.20', relayTest: false, ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(codes(findings)).toEqual(['smtp.ok:ok']);
    expect(lines(smtp).some((line) => line.startsWith('MAIL'))).toBe(false);
  });

  it('logs the transcript at debug level', async () => {
    const smtp = await server(21);
    const { logs } = await run({
      servers: [{ host: '127.0.0.21', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    const transcript = logs.find((log) => log.message === 'SMTP conversation')?.extra?.['transcript'];
    expect(transcript).toEqual(
      expect.arrayContaining([
        'C: STARTTLS',
        'S: 220 2.0.0 Ready to start TLS',
        'C: QUIT',
        'S: 221 2.0.0 Bye',
      ]),
    );
  });
});

describe('relay verdicts that are not about relaying', () => {
  it('treats a RCPT refusal of the probe HELO name as inconclusive, not as a closed relay', async () => {
    const smtp = await server(22, {
      relayReply: '554 5.7.1 <watchkeeper-probe.example.net>: Helo command rejected: Host not found',
    });
    const { findings } = await run({
      servers: [{ host: '127.0.0.22', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(findings.map((finding) => `${finding.code}:${finding.severity}`)).toEqual([
      'smtp.relay-inconclusive:unknown',
    ]);
    expect(findings[0]?.message).toMatch(/check heloName/);
  });
});

describe('addresses of a host name', () => {
  it('probes the IPv6 address too when ipv6 is set, each against its own PTR', async () => {
    const v4 = await server(23);
    const v6 = await startSmtpServer({ host: '::1', port: v4.port, hostname: 'mx23.example.test', tls });
    running.push(v6);
    const section = { servers: [{ host: 'dual.example.test', ports: [{ port: v4.port, mode: 'mx' }] }] };
    const { findings } = await run({ ...section, ipv6: true });
    expect(findings.map((finding) => [finding.subject, finding.code]).sort()).toEqual([
      ['127.0.0.23', 'smtp.ok'],
      ['::1', 'smtp.ok'],
    ]);
    expect(findings.every((finding) => finding.target === `dual.example.test:${v4.port}`)).toBe(true);
    expect(v6.sessions).toBe(1);
    const { findings: v4Only } = await run(section);
    expect(v4Only.map((finding) => finding.subject)).toEqual(['127.0.0.23']);
  });
});

describe('the run deadline', () => {
  it('aborts the conversation in flight and names the servers it did not reach', async () => {
    const silent = await server(12, { silent: true });
    const others = [await server(13), await server(14)];
    const context = testContext(
      definition,
      {
        resolver: dns.address,
        concurrency: 1,
        replyTimeoutMs: 60_000,
        servers: [silent, ...others].map((smtp) => ({
          host: smtp.host,
          ports: [{ port: smtp.port, mode: 'mx' }],
        })),
      },
      { budgetMs: 1_000 },
    );
    const outcome = await definition.run(context);
    expect(
      outcome.findings.map((finding) => `${finding.subject} ${finding.code}:${finding.severity}`),
    ).toEqual(['127.0.0.12 smtp.unreachable:unknown']);
    expect(outcome.findings[0]?.message).toMatch(/deadline/);
    expect(outcome.incomplete?.message).toMatch(/^2 of 3 mail server conversations were not started/);
    expect(others.every((smtp) => smtp.sessions === 0)).toBe(true);
  });
});

describe('servers that stop talking', () => {
  it('reports a 421 mid-conversation with the server’s own words', async () => {
    const smtp = await server(24, {
      closeOnCommand: 'MAIL',
      closeReply: '421 4.7.0 mx24.example.test Error: too many connections',
    });
    const { findings } = await run({
      servers: [{ host: '127.0.0.24', ports: [{ port: smtp.port, mode: 'mx' }] }],
    });
    expect(findings.map((finding) => `${finding.code}:${finding.severity}`)).toEqual([
      'smtp.conversation-failed:warning',
    ]);
    expect(findings[0]?.message).toMatch(
      /at MAIL \(the server is closing the connection: 421 4\.7\.0 .*too many connections\)/,
    );
  });

  it('reports a service that does not speak SMTP', async () => {
    const { createServer } = await import('node:net');
    const http = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.25', resolve));
    const address = http.address();
    try {
      if (address === null || typeof address === 'string') throw new Error('no port');
      const { findings } = await run({
        servers: [{ host: '127.0.0.25', ports: [{ port: address.port, mode: 'mx' }] }],
      });
      expect(findings.map((finding) => `${finding.code}:${finding.severity}`)).toEqual([
        'smtp.unreachable:critical',
      ]);
      expect(findings[0]?.message).toMatch(/does not speak SMTP/);
    } finally {
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});
