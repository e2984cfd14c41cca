/**
 * check-certificates against Debian's daemons: MariaDB's SSL handshake packet, PostgreSQL's
 * SSLRequest, Dovecot's IMAP STARTTLS and POP3 STLS, vsftpd's AUTH TLS, OpenLDAP's StartTLS and
 * Prosody's XMPP <starttls/>, as the real servers speak them (not the sandbox fronts). Each is
 * started here on its own loopback address with a certificate from a test CA, from a temp
 * directory (never the system services), and stopped afterwards. Each block is skipped without
 * its Debian package: mariadb-server, postgresql, dovecot-imapd + dovecot-pop3d, vsftpd, slapd,
 * prosody.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '#functions/check-certificates/job.ts';
import { createTestPki, pemBundle, type TestPki } from '#sandbox/pki.ts';
import { testContext } from '../support/context.ts';

const run = promisify(execFile);
const IS_ROOT = userInfo().uid === 0;
const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((path) => existsSync(path));
const INSTALL_DB = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find((path) =>
  existsSync(path),
);
const PG_BIN = [
  '/usr/lib/postgresql/17/bin',
  '/usr/lib/postgresql/16/bin',
  '/usr/lib/postgresql/15/bin',
].find((path) => existsSync(join(path, 'postgres')));

let pki: TestPki;
let base: string;
let caFile: string;

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(host: string, port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`server on ${host}:${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  pki = await createTestPki('interop');
  base = await mkdtemp(join(tmpdir(), 'wk-cert-interop-'));
  await chmod(base, 0o755);
  caFile = join(base, 'ca.pem');
  await writeFile(caFile, pki.root.pem);
});

afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

describe.skipIf(MARIADBD === undefined || INSTALL_DB === undefined)(
  'MySQL protocol against MariaDB (skipped without Debian package mariadb-server)',
  () => {
    const host = '127.0.0.71';
    let server: ChildProcess | undefined;
    let port = 0;

    beforeAll(async () => {
      const dir = join(base, 'mariadb');
      const datadir = join(dir, 'data');
      await mkdir(datadir, { recursive: true });
      const leaf = await pki.leaf(['db.interop.test']);
      await writeFile(join(dir, 'server-cert.pem'), pemBundle(pki.chain(leaf)));
      await writeFile(join(dir, 'server-key.pem'), leaf.keyPair.privateKeyPem);
      const user = IS_ROOT ? ['--user=root'] : [];
      await run(
        INSTALL_DB ?? '',
        [
          '--no-defaults',
          `--datadir=${datadir}`,
          '--skip-test-db',
          '--auth-root-authentication-method=socket',
          ...user,
        ],
        {
          timeout: 120_000,
        },
      );
      port = await freePort(host);
      server = spawn(
        MARIADBD ?? '',
        [
          '--no-defaults',
          `--datadir=${datadir}`,
          `--socket=${join(dir, 'mysqld.sock')}`,
          `--bind-address=${host}`,
          `--port=${port}`,
          `--pid-file=${join(dir, 'mysqld.pid')}`,
          `--log-error=${join(dir, 'error.log')}`,
          `--ssl-cert=${join(dir, 'server-cert.pem')}`,
          `--ssl-key=${join(dir, 'server-key.pem')}`,
          '--innodb-buffer-pool-size=16M',
          '--skip-log-bin',
          ...user,
        ],
        { stdio: 'ignore' },
      );
      await waitForPort(host, port, server);
    });

    afterAll(async () => {
      server?.kill('SIGTERM');
      if (server && server.exitCode === null) await new Promise((resolve) => server?.once('exit', resolve));
    });

    it('upgrades to TLS with the SSL handshake packet and reads the certificate', async () => {
      const context = testContext(definition, {
        endpoints: [{ host: 'db.interop.test', addresses: [host], port, protocol: 'mysql' }],
        caFile,
        systemRoots: false,
      });
      const outcome = await definition.run(context);
      expect(outcome.findings.map((finding) => finding.code)).toEqual(['certificate.ok']);
      expect(outcome.findings[0]?.data).toMatchObject({ subject: 'db.interop.test', protocol: 'mysql' });
    });
  },
);

describe.skipIf(PG_BIN === undefined)(
  'PostgreSQL SSLRequest against PostgreSQL (skipped without Debian package postgresql)',
  () => {
    const host = '127.0.0.72';
    let server: ChildProcess | undefined;
    let port = 0;

    beforeAll(async () => {
      const dir = join(base, 'postgres');
      const data = join(dir, 'data');
      await mkdir(dir, { recursive: true });
      // PostgreSQL refuses to run as root: as root the cluster belongs to the postgres user.
      const asUser = (command: string, args: string[]) =>
        (IS_ROOT ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]) as [
          string,
          string[],
        ];
      const owner = IS_ROOT
        ? {
            uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
            gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
          }
        : undefined;
      if (owner) await chown(dir, owner.uid, owner.gid);
      const [initdb, initdbArgs] = asUser(join(PG_BIN ?? '', 'initdb'), [
        '-D',
        data,
        '-A',
        'trust',
        '-U',
        'postgres',
      ]);
      await run(initdb, initdbArgs, { timeout: 120_000 });
      const leaf = await pki.leaf(['pg.interop.test']);
      await writeFile(join(data, 'server.crt'), pemBundle(pki.chain(leaf)));
      await writeFile(join(data, 'server.key'), leaf.keyPair.privateKeyPem, { mode: 0o600 });
      if (owner) {
        await chown(join(data, 'server.crt'), owner.uid, owner.gid);
        await chown(join(data, 'server.key'), owner.uid, owner.gid);
      }
      port = await freePort(host);
      const [command, args] = asUser(join(PG_BIN ?? '', 'postgres'), [
        '-D',
        data,
        '-c',
        `listen_addresses=${host}`,
        '-c',
        `port=${port}`,
        '-c',
        `unix_socket_directories=${dir}`,
        '-c',
        'ssl=on',
        '-c',
        'shared_buffers=16MB',
      ]);
      server = spawn(command, args, { stdio: 'ignore' });
      await waitForPort(host, port, server);
    });

    afterAll(async () => {
      // runuser does not forward signals: stop the postmaster itself (its PID heads postmaster.pid).
      const pidFile = await readFile(join(base, 'postgres', 'data', 'postmaster.pid'), 'utf8').catch(
        () => '',
      );
      const pid = Number(pidFile.split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGINT');
      else server?.kill('SIGINT');
      if (server && server.exitCode === null) await new Promise((resolve) => server?.once('exit', resolve));
    });

    it('upgrades to TLS with SSLRequest and reads the certificate', async () => {
      const context = testContext(definition, {
        endpoints: [{ host: 'pg.interop.test', addresses: [host], port, protocol: 'postgres' }],
        caFile,
        systemRoots: false,
      });
      const outcome = await definition.run(context);
      expect(outcome.findings.map((finding) => finding.code)).toEqual(['certificate.ok']);
      expect(outcome.findings[0]?.data).toMatchObject({ subject: 'pg.interop.test', protocol: 'postgres' });
    });
  },
);

/** A daemon started for one block, stopped with SIGTERM (and waited for) afterwards. */
async function startDaemon(
  command: string,
  args: string[],
  host: string,
  ports: number[],
): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: 'ignore' });
  for (const port of ports) await waitForPort(host, port, child);
  return child;
}

async function stopDaemon(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function probeOk(name: string, host: string, port: number, protocol: string): Promise<void> {
  const outcome = await definition.run(
    testContext(definition, {
      endpoints: [{ host: name, addresses: [host], port, protocol }],
      caFile,
      systemRoots: false,
    }),
  );
  expect(outcome.findings.map((finding) => `${finding.code}: ${finding.message}`)).toEqual([
    expect.stringMatching(/^certificate\.ok: /),
  ]);
  expect(outcome.findings[0]?.data).toMatchObject({ subject: name, protocol });
}

async function writeChain(dir: string, name: string, rsa = false): Promise<{ cert: string; key: string }> {
  await mkdir(dir, { recursive: true });
  const leaf = await pki.leaf([name], rsa ? { key: { type: 'rsa', bits: 2048 } } : {});
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await writeFile(cert, pemBundle(pki.chain(leaf)));
  await writeFile(key, leaf.keyPair.privateKeyPem, { mode: 0o644 });
  return { cert, key };
}

describe.skipIf(!existsSync('/usr/sbin/dovecot') || !existsSync('/usr/lib/dovecot/pop3-login'))(
  'IMAP STARTTLS and POP3 STLS against Dovecot (skipped without dovecot-imapd and dovecot-pop3d)',
  () => {
    const host = '127.0.0.73';
    let daemon: ChildProcess | undefined;
    let imap = 0;
    let pop3 = 0;

    beforeAll(async () => {
      const dir = join(base, 'dovecot');
      const { cert, key } = await writeChain(dir, 'mail.interop.test');
      await mkdir(join(dir, 'run'));
      await mkdir(join(dir, 'state'));
      imap = await freePort(host);
      pop3 = await freePort(host);
      const listener = (service: string, port: number, tlsService: string) =>
        `service ${service}-login {\n  inet_listener ${service} {\n    port = ${port}\n  }\n  inet_listener ${tlsService} {\n    port = 0\n  }\n}\n`;
      await writeFile(
        join(dir, 'dovecot.conf'),
        [
          `base_dir = ${join(dir, 'run')}`,
          `state_dir = ${join(dir, 'state')}`,
          `log_path = ${join(dir, 'dovecot.log')}`,
          'protocols = imap pop3',
          `listen = ${host}`,
          'ssl = yes',
          `ssl_cert = <${cert}`,
          `ssl_key = <${key}`,
          'passdb {\n  driver = static\n  args = password=unused\n}',
          `userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=${join(dir, 'home')}\n}`,
          listener('imap', imap, 'imaps'),
          listener('pop3', pop3, 'pop3s'),
        ].join('\n'),
      );
      daemon = await startDaemon('/usr/sbin/dovecot', ['-F', '-c', join(dir, 'dovecot.conf')], host, [
        imap,
        pop3,
      ]);
    });

    afterAll(() => stopDaemon(daemon));

    it('upgrades IMAP with STARTTLS', () => probeOk('mail.interop.test', host, imap, 'imap'));
    it('upgrades POP3 with STLS', () => probeOk('mail.interop.test', host, pop3, 'pop3'));
  },
);

describe.skipIf(!existsSync('/usr/sbin/vsftpd'))(
  'FTP AUTH TLS against vsftpd (skipped without vsftpd)',
  () => {
    const host = '127.0.0.74';
    let daemon: ChildProcess | undefined;
    let port = 0;

    beforeAll(async () => {
      const dir = join(base, 'vsftpd');
      const { cert, key } = await writeChain(dir, 'ftp.interop.test', true);
      await mkdir(join(dir, 'empty'));
      port = await freePort(host);
      await writeFile(
        join(dir, 'vsftpd.conf'),
        [
          'listen=YES',
          'listen_ipv6=NO',
          `listen_address=${host}`,
          `listen_port=${port}`,
          'background=NO',
          'anonymous_enable=NO',
          'local_enable=YES',
          'ssl_enable=YES',
          `rsa_cert_file=${cert}`,
          `rsa_private_key_file=${key}`,
          `secure_chroot_dir=${join(dir, 'empty')}`,
          'seccomp_sandbox=NO',
          `vsftpd_log_file=${join(dir, 'vsftpd.log')}`,
          '',
        ].join('\n'),
      );
      daemon = await startDaemon('/usr/sbin/vsftpd', [join(dir, 'vsftpd.conf')], host, [port]);
    });

    afterAll(() => stopDaemon(daemon));

    it('upgrades FTP with AUTH TLS after the 220 greeting', () =>
      probeOk('ftp.interop.test', host, port, 'ftp'));
  },
);

describe.skipIf(!existsSync('/usr/sbin/slapd'))(
  'LDAP StartTLS against OpenLDAP slapd (skipped without slapd)',
  () => {
    const host = '127.0.0.75';
    let daemon: ChildProcess | undefined;
    let port = 0;

    beforeAll(async () => {
      const dir = join(base, 'slapd');
      const { cert, key } = await writeChain(dir, 'ldap.interop.test');
      await mkdir(join(dir, 'ldif'));
      port = await freePort(host);
      await writeFile(
        join(dir, 'slapd.conf'),
        [
          'include /etc/ldap/schema/core.schema',
          `pidfile ${join(dir, 'slapd.pid')}`,
          `TLSCertificateFile ${cert}`,
          `TLSCertificateKeyFile ${key}`,
          'database ldif',
          'suffix "dc=interop,dc=test"',
          `directory ${join(dir, 'ldif')}`,
          '',
        ].join('\n'),
      );
      // -d 0: stay in the foreground without debug output, so the child is the daemon.
      daemon = await startDaemon(
        '/usr/sbin/slapd',
        ['-d', '0', '-f', join(dir, 'slapd.conf'), '-h', `ldap://${host}:${port}/`],
        host,
        [port],
      );
    });

    afterAll(() => stopDaemon(daemon));

    it('upgrades LDAP with the StartTLS extended operation', () =>
      probeOk('ldap.interop.test', host, port, 'ldap'));
  },
);

describe.skipIf(!existsSync('/usr/bin/prosody'))(
  'XMPP STARTTLS against Prosody (skipped without prosody)',
  () => {
    const host = '127.0.0.76';
    let daemon: ChildProcess | undefined;
    let port = 0;

    beforeAll(async () => {
      const dir = join(base, 'prosody');
      const { cert, key } = await writeChain(dir, 'xmpp.interop.test', true);
      await mkdir(join(dir, 'data'));
      port = await freePort(host);
      await writeFile(
        join(dir, 'prosody.cfg.lua'),
        [
          `run_as_root = ${IS_ROOT ? 'true' : 'false'}`,
          'daemonize = false',
          `pidfile = "${join(dir, 'prosody.pid')}"`,
          `data_path = "${join(dir, 'data')}"`,
          `interfaces = { "${host}" }`,
          `c2s_ports = { ${port} }`,
          's2s_ports = { }',
          'c2s_direct_tls_ports = { }',
          'component_ports = { }',
          'http_ports = { }',
          'https_ports = { }',
          `log = { { levels = { min = "warn" }, to = "file", filename = "${join(dir, 'prosody.log')}" } }`,
          'modules_enabled = { "tls", "saslauth", "disco" }',
          'modules_disabled = { "s2s", "posix" }',
          'authentication = "internal_hashed"',
          `ssl = { certificate = "${cert}", key = "${key}" }`,
          'VirtualHost "xmpp.interop.test"',
          '',
        ].join('\n'),
      );
      daemon = await startDaemon('/usr/bin/prosody', ['--config', join(dir, 'prosody.cfg.lua')], host, [
        port,
      ]);
    });

    afterAll(() => stopDaemon(daemon));

    it('upgrades an XMPP client stream with <starttls/>', () =>
      probeOk('xmpp.interop.test', host, port, 'xmpp'));
  },
);
