/**
 * check-mail-servers against Debian's Postfix (apt package `postfix`), configured by this test on
 * loopback: one instance set up correctly (STARTTLS, relaying only for its own networks) and one
 * open relay (mynetworks = the whole internet, the classic mistake). Postfix's own log then proves
 * the probe never sent DATA: its `disconnect` line counts every command a client used.
 * Needs root (Postfix's master starts as root and drops to the postfix user).
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-mail-servers/job.ts';
import { type RunningDnsServer, startDnsServer } from '#sandbox/dns-server.ts';
import { createLeaf } from '#sandbox/pki.ts';
import type { Finding } from '#shared/findings.ts';
import { testContext } from '../support/context.ts';

const POSTFIX = '/usr/sbin/postfix';
const canRun = existsSync(POSTFIX) && userInfo().uid === 0;

interface Instance {
  name: string;
  address: string;
  port: number;
  dir: string;
}

/** A port free on `address` right now (Postfix binds it moments later). */
async function freePort(address: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const bound = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (bound === null || typeof bound === 'string') throw new Error('no port');
  return bound.port;
}

const MASTER_CF = (address: string, port: number, postscreen: boolean) =>
  [
    ...(postscreen
      ? [
          // postscreen answers first with a `220-` teaser, waits, then hands over to smtpd.
          `${address}:${port} inet n - n - 1 postscreen`,
          'smtpd pass - - n - - smtpd',
          'dnsblog unix - - n - 0 dnsblog',
          'tlsproxy unix - - n - 0 tlsproxy',
        ]
      : [`${address}:${port} inet n - n - - smtpd`]),
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'tlsmgr unix - - n 1000? 1 tlsmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'proxywrite unix - - n - 1 proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'local unix - n n - - local',
    'virtual unix - n n - - virtual',
    'lmtp unix - - n - - lmtp',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
    '',
  ].join('\n');

async function startPostfix(
  root: string,
  name: string,
  address: string,
  tls: { key: string; cert: string },
  extra: string[],
  postscreen = false,
): Promise<Instance> {
  const dir = join(root, name);
  const etc = join(dir, 'etc');
  for (const sub of [etc, join(dir, 'queue'), join(dir, 'data')]) mkdirSync(sub, { recursive: true });
  const postfixUid = Number(execFileSync('id', ['-u', 'postfix']).toString().trim());
  const postfixGid = Number(execFileSync('id', ['-g', 'postfix']).toString().trim());
  chownSync(join(dir, 'data'), postfixUid, postfixGid);
  writeFileSync(join(etc, 'key.pem'), tls.key, { mode: 0o600 });
  writeFileSync(join(etc, 'cert.pem'), tls.cert);
  const port = await freePort(address);
  writeFileSync(
    join(etc, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `config_directory = ${etc}`,
      `queue_directory = ${join(dir, 'queue')}`,
      `data_directory = ${join(dir, 'data')}`,
      `myhostname = ${name}.example.test`,
      'mydomain = example.test',
      'mydestination = example.test',
      // 127.0.0.x are not interface addresses; the listener in master.cf names its own address.
      'inet_interfaces = all',
      'inet_protocols = ipv4',
      'smtpd_banner = $myhostname ESMTP',
      `smtpd_tls_cert_file = ${join(etc, 'cert.pem')}`,
      `smtpd_tls_key_file = ${join(etc, 'key.pem')}`,
      'smtpd_tls_security_level = may',
      'smtpd_peername_lookup = no',
      `maillog_file = ${join(dir, 'maillog')}`,
      `maillog_file_prefixes = ${root}`,
      'alias_maps =',
      'alias_database =',
      'local_recipient_maps =',
      'smtp_dns_support_level = disabled',
      'biff = no',
      ...extra,
      '',
    ].join('\n'),
  );
  writeFileSync(join(etc, 'master.cf'), MASTER_CF(address, port, postscreen));
  try {
    execFileSync(POSTFIX, ['-c', etc, 'start'], { stdio: 'pipe' });
    await waitForListener(address, port);
  } catch (error) {
    // Postfix explains itself only in its log: put the log in the failure.
    const log = existsSync(join(dir, 'maillog'))
      ? readFileSync(join(dir, 'maillog'), 'utf8')
      : '(no maillog)';
    throw new Error(`Postfix ${name} did not start on ${address}:${port}: ${String(error)}\n${log}`);
  }
  return { name, address, port, dir };
}

async function waitForListener(address: string, port: number): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createServer().listen(port, address);
      socket.once('listening', () => socket.close(() => resolve(false)));
      socket.once('error', () => resolve(true));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Postfix did not listen on ${address}:${port}`);
}

/** The `disconnect from …` lines Postfix logged: `ehlo=2 starttls=1 mail=1 rcpt=0/1 rset=1 quit=1 commands=…`. */
function disconnectLines(instance: Instance): string[] {
  const log = existsSync(join(instance.dir, 'maillog'))
    ? readFileSync(join(instance.dir, 'maillog'), 'utf8')
    : '';
  return log.split('\n').filter((line) => /smtpd\[\d+\]: disconnect from/.test(line));
}

describe.skipIf(!canRun)('check-mail-servers against Postfix (needs root and the postfix package)', () => {
  let root: string;
  let dns: RunningDnsServer;
  let correct: Instance;
  let openRelay: Instance;
  let screened: Instance;
  let findings: Finding[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'wk-postfix-'));
    chmodSync(root, 0o755); // Postfix's daemons run as the postfix user.
    const leaf = await createLeaf(['mx-good.example.test', 'mx-relay.example.test'], undefined);
    const tls = { key: leaf.keyPair.privateKeyPem, cert: leaf.pem };
    correct = await startPostfix(root, 'mx-good', '127.0.0.50', tls, ['mynetworks = 192.0.2.0/24']);
    openRelay = await startPostfix(root, 'mx-relay', '127.0.0.51', tls, ['mynetworks = 0.0.0.0/0']);
    screened = await startPostfix(
      root,
      'mx-screen',
      '127.0.0.52',
      tls,
      ['mynetworks = 192.0.2.0/24', 'postscreen_greet_wait = 2s', 'postscreen_greet_action = enforce'],
      true,
    );
    dns = await startDnsServer({
      records: [
        { name: '50.0.0.127.in-addr.arpa', type: 'PTR', data: 'mx-good.example.test' },
        { name: '51.0.0.127.in-addr.arpa', type: 'PTR', data: 'mx-relay.example.test' },
        { name: 'mx-good.example.test', type: 'A', data: '127.0.0.50' },
        { name: 'mx-relay.example.test', type: 'A', data: '127.0.0.51' },
        { name: '52.0.0.127.in-addr.arpa', type: 'PTR', data: 'mx-screen.example.test' },
        { name: 'mx-screen.example.test', type: 'A', data: '127.0.0.52' },
      ],
    });
    const context = testContext(definition, {
      resolver: dns.address,
      servers: [
        { host: 'mx-good.example.test', ports: [{ port: correct.port, mode: 'mx' }] },
        { host: 'mx-relay.example.test', ports: [{ port: openRelay.port, mode: 'mx' }] },
        { host: 'mx-screen.example.test', ports: [{ port: screened.port, mode: 'mx' }] },
      ],
      slowBannerMs: 1_000,
    });
    ({ findings } = await definition.run(context));
  });

  afterAll(async () => {
    for (const instance of [correct, openRelay, screened]) {
      if (instance) execFileSync(POSTFIX, ['-c', join(instance.dir, 'etc'), 'stop'], { stdio: 'pipe' });
    }
    await dns?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('reports the correct Postfix as ok: STARTTLS works and relaying is refused', () => {
    const good = findings.filter((finding) => finding.subject === '127.0.0.50');
    expect(good.map((finding) => finding.code)).toEqual(['smtp.ok']);
    expect(good[0]?.data).toMatchObject({
      banner: 'mx-good.example.test',
      ptrNames: ['mx-good.example.test'],
      tls: { implicit: false, protocol: expect.stringMatching(/^TLSv1\.[23]$/) },
      // Postfix's default smtpd_relay_restrictions end in defer_unauth_destination: a 4xx refusal.
      relay: {
        verdict: 'closed',
        decidedBy: 'RCPT',
        reply: expect.stringMatching(/^454 4\.7\.1 .*Relay access denied/),
      },
    });
  });

  it('reports the open-relay Postfix as critical', () => {
    const relay = findings.filter((finding) => finding.subject === '127.0.0.51');
    expect(relay.map((finding) => `${finding.code}:${finding.severity}`)).toEqual([
      'smtp.open-relay:critical',
    ]);
    expect(relay[0]?.target).toBe(`mx-relay.example.test:${openRelay.port}`);
  });

  it('reads the multi-line postscreen greeting to its end and reports the greet pause as slow', () => {
    const screenedFindings = findings.filter((finding) => finding.subject === '127.0.0.52');
    expect(screenedFindings.map((finding) => `${finding.code}:${finding.severity}`)).toEqual([
      'smtp.slow-banner:warning',
    ]);
    const greeting = screenedFindings[0]?.data?.['greeting'];
    expect(greeting).toEqual(['mx-screen.example.test ESMTP', 'mx-screen.example.test ESMTP']);
    expect(screenedFindings[0]?.data?.['greetingMs']).toBeGreaterThan(1_000);
  });

  it('never sent DATA, and always ended with RSET and QUIT, according to Postfix itself', async () => {
    for (const instance of [correct, openRelay, screened]) {
      // Postfix writes its maillog asynchronously (postlogd): wait for the disconnect line.
      let lines = disconnectLines(instance);
      for (let waited = 0; lines.length === 0 && waited < 10_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        lines = disconnectLines(instance);
      }
      expect(lines.length).toBe(1);
      const line = lines[0] ?? '';
      expect(line).toMatch(/ ehlo=2 starttls=1 mail=1 rcpt=(1|0\/1) rset=1 quit=1 /);
      expect(line).not.toMatch(/\b(data|bdat)=/);
    }
  });
});
