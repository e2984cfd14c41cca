/**
 * check-certificates against Debian's database servers: MariaDB's SSL handshake packet and
 * PostgreSQL's SSLRequest as the real daemons speak them (not the sandbox fronts), each started
 * here on a loopback address with a certificate from a test CA, in a temp directory (never the
 * system services). Skipped without the Debian packages mariadb-server and postgresql-15.
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
