/**
 * The mysql freeze hook against a real MariaDB server (Debian's mariadb-server), started here on a
 * Unix socket in a temp data directory (never the system service). As root the data directory
 * sits on a loop-mounted ext4 that is frozen too; otherwise the hook holds the lock alone.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ActiveFreeze } from '#functions/snapshot-volumes/hook.ts';
import {
  createLoopFs,
  destroyLoopFs,
  destroyStateDir,
  finishes,
  freeze,
  IS_ROOT,
  isBlocked,
  type LoopFs,
  startWriter,
  thaw,
} from '../snapshot-volumes/loopfs.ts';

const run = promisify(execFile);
const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((path) => existsSync(path));
const INSTALL_DB = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find((path) =>
  existsSync(path),
);

describe.skipIf(MARIADBD === undefined || INSTALL_DB === undefined)(
  'mysql freeze hook against MariaDB (skipped without Debian packages mariadb-server and mariadb-client)',
  () => {
    let base = '';
    let fs: LoopFs | undefined;
    let server: ChildProcess | undefined;
    let socket = '';
    let defaultsFile = '';
    let stateDir = '';
    const sessions: ChildProcess[] = [];

    const sql = async (statement: string) =>
      (
        await run(
          'mariadb',
          [`--defaults-extra-file=${defaultsFile}`, '--batch', '--skip-column-names', '-e', statement],
          { timeout: 20_000 },
        )
      ).stdout.trim();

    beforeAll(async () => {
      base = await mkdtemp(join(tmpdir(), 'wk-mariadb-'));
      fs = IS_ROOT ? await createLoopFs('ext4', 512) : undefined;
      const datadir = join(fs?.mountPoint ?? base, 'data');
      socket = join(base, 'mysqld.sock');
      defaultsFile = join(base, 'client.cnf');
      await mkdir(datadir);
      const user = IS_ROOT ? ['--user=root'] : [];
      await run(
        INSTALL_DB ?? '',
        [
          '--no-defaults',
          `--datadir=${datadir}`,
          '--skip-test-db',
          '--auth-root-authentication-method=socket',
          '--innodb-log-file-size=8M',
          ...user,
        ],
        { timeout: 120_000 },
      );
      server = spawn(
        MARIADBD ?? '',
        [
          '--no-defaults',
          `--datadir=${datadir}`,
          `--socket=${socket}`,
          '--skip-networking',
          `--pid-file=${join(base, 'mysqld.pid')}`,
          `--log-error=${join(base, 'error.log')}`,
          '--innodb-buffer-pool-size=16M',
          '--innodb-log-file-size=8M',
          '--skip-log-bin',
          ...user,
        ],
        { stdio: 'ignore' },
      );
      await writeFile(
        defaultsFile,
        `[client]\nsocket=${socket}\nuser=${IS_ROOT ? 'root' : (process.env['USER'] ?? 'root')}\n`,
      );
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          await sql('SELECT 1');
          break;
        } catch (error) {
          if (Date.now() > deadline || server.exitCode !== null) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      await sql('CREATE DATABASE wk; CREATE TABLE wk.t (id INT PRIMARY KEY) ENGINE=InnoDB');
    });

    afterEach(async () => {
      await destroyStateDir(stateDir);
      if (fs) await run('fsfreeze', ['-u', fs.mountPoint], { timeout: 5_000 }).catch(() => undefined);
      for (const session of sessions.splice(0)) session.kill('SIGKILL');
    });

    afterAll(async () => {
      if (server && server.exitCode === null) {
        const exited = new Promise((resolve) => server?.once('exit', resolve));
        server.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
      if (fs) await destroyLoopFs(fs);
      await rm(base, { recursive: true, force: true });
    });

    async function newStateDir(): Promise<string> {
      stateDir = join(await mkdtemp(join(tmpdir(), 'wk-state-')), 'hook');
      return stateDir;
    }

    function spec(watchdogSeconds = 30): ActiveFreeze {
      return {
        mode: 'mysql',
        mountPoints: fs ? [fs.mountPoint] : [],
        watchdogSeconds,
        defaultsFile,
        lockWaitSeconds: 5,
      };
    }

    function insert(id: number): { child: ChildProcess; done: Promise<number> } {
      const child = spawn(
        'mariadb',
        [`--defaults-extra-file=${defaultsFile}`, '-e', `INSERT INTO wk.t VALUES (${id})`],
        { stdio: 'ignore' },
      );
      sessions.push(child);
      return { child, done: new Promise((resolve) => child.on('close', (code) => resolve(code ?? -1))) };
    }

    async function waitsForReadLock(): Promise<boolean> {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const states = await sql(
          "SELECT STATE FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO wk.t%'",
        );
        // MySQL says "global read lock"; MariaDB 10.4+ implements FTWRL with backup locks.
        if (/global read lock|backup lock/i.test(states)) return true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return false;
    }

    it('holds FLUSH TABLES WITH READ LOCK across the freeze: another session waits until the thaw', async () => {
      const dir = await newStateDir();
      const frozen = await freeze(spec(), 'run-m1', dir);
      expect(frozen.exitCode).toBe(0);
      expect(frozen.status?.fields).toMatchObject({ status: 'frozen', mysql: 'held' });
      // The hook's own client exited long ago; the lock must still be there.
      const waiting = insert(1);
      expect(await waitsForReadLock()).toBe(true);
      if (fs) expect(await isBlocked(startWriter(fs.mountPoint))).toBe(true);

      const thawed = await thaw(spec(), 'run-m1', dir);
      expect(thawed.status?.fields).toMatchObject({ status: 'thawed', mysql: 'released' });
      expect(await finishes(waiting, 20_000)).toBe(0);
      expect(await sql('SELECT COUNT(*) FROM wk.t WHERE id = 1')).toBe('1');
    });

    it('releases the lock by itself when no thaw arrives (watchdog)', async () => {
      const dir = await newStateDir();
      expect((await freeze(spec(3), 'run-m2', dir)).status?.status).toBe('frozen');
      const waiting = insert(2);
      expect(await waitsForReadLock()).toBe(true);
      expect(await finishes(waiting, 30_000)).toBe(0);
      const late = await thaw(spec(3), 'run-m2', dir);
      expect(late.status?.fields['watchdog']).toBe('fired');
    });

    it('fails cleanly, freezing nothing, when the lock cannot be taken', async () => {
      const dir = await newStateDir();
      const badDefaults = join(base, 'bad.cnf');
      await writeFile(badDefaults, `[client]\nsocket=${socket}\nuser=no_such_user\npassword=wrong\n`);
      const result = await freeze({ ...spec(), defaultsFile: badDefaults } as ActiveFreeze, 'run-m3', dir);
      expect(result.exitCode).toBe(1);
      expect(result.status?.fields).toMatchObject({ status: 'failed', reason: 'mysql-lock-failed' });
      expect(result.status?.fields['mysqlError']).toMatch(/^(1045|1698)$/);
      const writer = insert(3);
      expect(await finishes(writer, 20_000)).toBe(0);
      if (fs) expect(await finishes(startWriter(fs.mountPoint, 'after-failure'), 10_000)).toBe(0);
    });
  },
);
