import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActiveFreeze } from '#functions/snapshot-volumes/hook.ts';
import {
  createLoopFs,
  destroyLoopFs,
  destroyStateDir,
  finishes,
  freeze,
  HAS_XFS,
  IS_ROOT,
  isBlocked,
  type LoopFs,
  startWriter,
  thaw,
  type Writer,
} from './loopfs.ts';

const fsfreeze = (mountPoints: string[], watchdogSeconds = 30): ActiveFreeze => ({
  mode: 'fsfreeze',
  mountPoints,
  watchdogSeconds,
});

describe.skipIf(!IS_ROOT)(
  'freeze hook on loop-mounted file systems (skipped unless root: needs losetup, mount, fsfreeze)',
  () => {
    const filesystems: LoopFs[] = [];
    const writers: Writer[] = [];
    let stateDir = '';

    beforeEach(async () => {
      stateDir = join(await mkdtemp(join(tmpdir(), 'wk-state-')), 'hook');
    });

    afterEach(async () => {
      // Thaw first so that blocked writers can finish; then unmount and detach everything we made.
      await destroyStateDir(stateDir);
      for (const fs of filesystems) await fsfreezeCommand('-u', fs.mountPoint).catch(() => undefined);
      for (const writer of writers.splice(0)) {
        writer.child.kill('SIGKILL');
        await finishes(writer, 5_000);
      }
      for (const fs of filesystems.splice(0)) await destroyLoopFs(fs);
    });

    async function scratch(type: 'ext4' | 'xfs' = 'ext4'): Promise<LoopFs> {
      const fs = await createLoopFs(type);
      filesystems.push(fs);
      return fs;
    }

    function writer(fs: LoopFs, name?: string): Writer {
      const started = startWriter(fs.mountPoint, name);
      writers.push(started);
      return started;
    }

    it('blocks a write while frozen and lets it complete after the thaw (ext4)', async () => {
      const fs = await scratch();
      const spec = fsfreeze([fs.mountPoint]);
      const frozen = await freeze(spec, 'run-1', stateDir);
      expect(frozen.exitCode).toBe(0);
      expect(frozen.status).toMatchObject({ phase: 'freeze', status: 'frozen' });
      expect(frozen.status?.fields['mounts']).toBe(fs.mountPoint);

      const blocked = writer(fs);
      expect(await isBlocked(blocked)).toBe(true);

      const thawed = await thaw(spec, 'run-1', stateDir);
      expect(thawed.exitCode).toBe(0);
      expect(thawed.status).toMatchObject({ phase: 'thaw', status: 'thawed' });
      expect(thawed.status?.fields['watchdog']).toBe('disarmed');
      expect(await finishes(blocked)).toBe(0);
      expect(await readFile(join(fs.mountPoint, 'probe'), 'utf8')).toBe('written\n');
    });

    it('works the same under bash (sh on Amazon Linux) as under dash', async () => {
      const fs = await scratch();
      const spec = fsfreeze([fs.mountPoint]);
      expect((await freeze(spec, 'run-b', stateDir, {}, 'bash')).status?.status).toBe('frozen');
      const blocked = writer(fs);
      expect(await isBlocked(blocked)).toBe(true);
      expect((await freeze(spec, 'run-b', stateDir, {}, 'bash')).status?.fields['reused']).toBe('1');
      expect((await thaw(spec, 'run-b', stateDir, 'bash')).status?.status).toBe('thawed');
      expect(await finishes(blocked)).toBe(0);
    });

    it.skipIf(!HAS_XFS)(
      'blocks a write while frozen and lets it complete after the thaw (XFS; needs xfsprogs)',
      async () => {
        const fs = await scratch('xfs');
        const spec = fsfreeze([fs.mountPoint]);
        expect((await freeze(spec, 'run-x', stateDir)).status?.status).toBe('frozen');
        const blocked = writer(fs);
        expect(await isBlocked(blocked)).toBe(true);
        expect((await thaw(spec, 'run-x', stateDir)).status?.status).toBe('thawed');
        expect(await finishes(blocked)).toBe(0);
      },
    );

    it('thaws by itself when no thaw arrives: the watchdog fires within its timeout', async () => {
      const fs = await scratch();
      const spec = fsfreeze([fs.mountPoint], 2);
      expect((await freeze(spec, 'run-2', stateDir)).status?.status).toBe('frozen');
      const blocked = writer(fs);
      expect(await isBlocked(blocked)).toBe(true);
      // No thaw call: the write must still complete (the watchdog is 2 s; allow generous slack).
      expect(await finishes(blocked, 15_000)).toBe(0);
      const late = await thaw(spec, 'run-2', stateDir);
      expect(late.exitCode).toBe(0);
      expect(late.status?.fields['watchdog']).toBe('fired');
      expect(late.status?.fields['alreadyThawed']).toBe(fs.mountPoint);
    });

    it('thaws and unlocks every listed file system, and the thaw disarms the watchdog', async () => {
      const a = await scratch();
      const b = await scratch();
      const spec = fsfreeze([a.mountPoint, b.mountPoint], 3);
      expect((await freeze(spec, 'run-3', stateDir)).status?.fields['mounts']).toBe(
        `${a.mountPoint},${b.mountPoint}`,
      );
      const writeA = writer(a);
      const writeB = writer(b);
      expect(await isBlocked(writeA)).toBe(true);
      expect(await isBlocked(writeB)).toBe(true);
      expect((await thaw(spec, 'run-3', stateDir)).status?.fields['thawed']).toBe(
        `${a.mountPoint},${b.mountPoint}`,
      );
      expect(await finishes(writeA)).toBe(0);
      expect(await finishes(writeB)).toBe(0);
      // The disarmed watchdog must not leave a note behind when its time passes.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      const again = await thaw(spec, 'run-3', stateDir);
      expect(again.status?.status).toBe('not-frozen');
    });

    describe('custom commands', () => {
      const commands = (pre: string, post: string, watchdogSeconds = 30): ActiveFreeze => ({
        mode: 'commands',
        pre,
        post,
        watchdogSeconds,
      });

      it('runs pre before the snapshot and post at the thaw', async () => {
        const fs = await scratch();
        const spec = commands(`fsfreeze -f ${fs.mountPoint}`, `fsfreeze -u ${fs.mountPoint}`);
        const frozen = await freeze(spec, 'run-c1', stateDir);
        expect(frozen.status?.fields).toMatchObject({ status: 'frozen', pre: 'ok' });
        const blocked = writer(fs);
        expect(await isBlocked(blocked)).toBe(true);
        expect((await thaw(spec, 'run-c1', stateDir)).status?.fields).toMatchObject({
          status: 'thawed',
          post: 'ok',
        });
        expect(await finishes(blocked)).toBe(0);
      });

      it('has the watchdog run post when no thaw arrives', async () => {
        const fs = await scratch();
        const spec = commands(`fsfreeze -f ${fs.mountPoint}`, `fsfreeze -u ${fs.mountPoint}`, 2);
        expect((await freeze(spec, 'run-c2', stateDir)).status?.status).toBe('frozen');
        const blocked = writer(fs);
        expect(await isBlocked(blocked)).toBe(true);
        expect(await finishes(blocked, 15_000)).toBe(0);
        // The post command ran once, by the watchdog; the late thaw does not run it again.
        expect((await thaw(spec, 'run-c2', stateDir)).status?.fields).toMatchObject({
          watchdog: 'fired',
          post: 'none',
        });
      });

      it('runs post to undo a pre command that failed, and reports the failure', async () => {
        const fs = await scratch();
        const spec = commands(`touch ${fs.dir}/pre-ran; exit 3`, `touch ${fs.dir}/post-ran`);
        const result = await freeze(spec, 'run-c3', stateDir);
        expect(result.exitCode).toBe(1);
        expect(result.status?.fields).toMatchObject({ status: 'failed', reason: 'pre-command-failed' });
        expect(existsSync(join(fs.dir, 'pre-ran'))).toBe(true);
        expect(existsSync(join(fs.dir, 'post-ran'))).toBe(true);
      });

      it('reports a failing post command', async () => {
        const fs = await scratch();
        const result = await freeze(commands('true', 'exit 1'), 'run-c4', stateDir);
        expect(result.status?.status).toBe('frozen');
        const thawed = await thaw(commands('true', 'exit 1'), 'run-c4', stateDir);
        expect(thawed.exitCode).toBe(1);
        expect(thawed.status?.fields).toMatchObject({ status: 'failed', reason: 'post-command-failed' });
        expect(await finishes(writer(fs))).toBe(0);
      });
    });

    it.each([
      ['/', 'system-mount'],
      ['/boot', 'system-mount'],
      ['/boot/efi', 'system-mount'],
      ['/var', 'system-mount'],
      ['relative/path', 'mount-not-absolute'],
      ['/data;reboot', 'bad-mount-string'],
      ['/data$(id)', 'bad-mount-string'],
      ['/data/../etc', 'mount-not-normalised'],
      ['/data|tee', 'bad-mount-string'],
      ['/data`id`', 'bad-mount-string'],
    ])('refuses the mount point %j (%s) and freezes nothing', async (mount, reason) => {
      const fs = await scratch();
      // The good mount comes second: nothing may be frozen before the bad one is seen.
      const result = await freeze(fsfreeze([mount, fs.mountPoint]), 'run-4', stateDir, {});
      expect(result.exitCode).toBe(2);
      expect(result.status).toMatchObject({ status: 'refused' });
      expect(result.status?.fields['reason']).toBe(reason);
      expect(await finishes(writer(fs), 10_000)).toBe(0);
    });

    it('refuses a directory that is not a mount point', async () => {
      const fs = await scratch();
      const result = await freeze(fsfreeze([join(fs.dir, 'not-mounted')]), 'run-5', stateDir);
      expect(result.exitCode).toBe(2);
      expect(result.status?.fields['reason']).toBe('not-mounted');
    });

    it('treats a second freeze by the same run as already done, and by another run as busy', async () => {
      const fs = await scratch();
      const spec = fsfreeze([fs.mountPoint]);
      expect((await freeze(spec, 'run-6', stateDir)).status?.fields['reused']).toBe('0');
      const retry = await freeze(spec, 'run-6', stateDir);
      expect(retry.exitCode).toBe(0);
      expect(retry.status?.fields['reused']).toBe('1');
      const other = await freeze(spec, 'run-7', stateDir);
      expect(other.exitCode).toBe(3);
      expect(other.status).toMatchObject({ status: 'busy' });
      expect(other.status?.fields['heldBy']).toBe('run-6');
      // Another run may not thaw what run-6 froze either.
      expect((await thaw(spec, 'run-7', stateDir)).exitCode).toBe(3);
      expect((await thaw(spec, 'run-6', stateDir)).status?.status).toBe('thawed');
      const second = await thaw(spec, 'run-6', stateDir);
      expect(second.exitCode).toBe(0);
      expect(second.status?.status).toBe('not-frozen');
      expect(await finishes(writer(fs))).toBe(0);
    });

    it('refuses a freeze delivered after its own thaw (the caller had given up on it)', async () => {
      const fs = await scratch();
      const spec = fsfreeze([fs.mountPoint]);
      expect((await thaw(spec, 'run-late', stateDir)).status?.status).toBe('not-frozen');
      const late = await freeze(spec, 'run-late', stateDir);
      expect(late.exitCode).toBe(2);
      expect(late.status?.fields['reason']).toBe('thawed-before-freeze');
      expect(await finishes(writer(fs))).toBe(0);
      // Other runs are not affected.
      expect((await freeze(spec, 'run-next', stateDir)).status?.status).toBe('frozen');
      expect((await thaw(spec, 'run-next', stateDir)).status?.status).toBe('thawed');
    });

    it('reports a file system frozen by someone else as a state, leaves that freeze alone and thaws its own', async () => {
      const ours = await scratch();
      const theirs = await scratch();
      await fsfreezeCommand('-f', theirs.mountPoint);
      const result = await freeze(fsfreeze([ours.mountPoint, theirs.mountPoint]), 'run-8', stateDir);
      expect(result.exitCode).toBe(4);
      expect(result.status).toMatchObject({ status: 'already-frozen' });
      expect(result.status?.fields['mount']).toBe(theirs.mountPoint);
      // Ours was frozen first and must have been thawed again; theirs stays frozen.
      expect(await finishes(writer(ours))).toBe(0);
      expect(await isBlocked(writer(theirs))).toBe(true);
    });
  },
);

async function fsfreezeCommand(flag: '-f' | '-u', mountPoint: string): Promise<void> {
  await promisify(execFile)('fsfreeze', [flag, mountPoint], { timeout: 5_000 });
}
