/**
 * Scratch file systems on loop devices for the freeze-hook tests, and a runner for the hook
 * scripts exactly as SSM sends them. Every file system made here is thawed, unmounted and detached
 * by `destroy()`; nothing else on the machine is ever touched.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  type ActiveFreeze,
  freezeCommands,
  type HookStatus,
  parseHookStatus,
  thawCommands,
} from '#functions/snapshot-volumes/hook.ts';

const run = promisify(execFile);

/** Whether the freeze tests can run (they need root for losetup, mount and fsfreeze). */
export const IS_ROOT = process.getuid?.() === 0;
/** Whether XFS can be tested (Debian package xfsprogs). */
export const HAS_XFS = existsSync('/usr/sbin/mkfs.xfs') || existsSync('/sbin/mkfs.xfs');

/** A mounted scratch file system. */
export interface LoopFs {
  dir: string;
  mountPoint: string;
  device: string;
  type: 'ext4' | 'xfs';
}

/** Makes, loop-attaches and mounts a sparse file system image in a temp directory. */
export async function createLoopFs(type: 'ext4' | 'xfs', sizeMb = 64): Promise<LoopFs> {
  const dir = await mkdtemp(join(tmpdir(), 'wk-freeze-'));
  const image = join(dir, 'fs.img');
  const mountPoint = join(dir, 'mnt');
  await mkdir(mountPoint);
  // XFS refuses file systems under 300 MB; the image is sparse, so this costs nothing.
  await run('truncate', ['-s', `${type === 'xfs' ? Math.max(320, sizeMb) : sizeMb}M`, image]);
  await run(type === 'xfs' ? 'mkfs.xfs' : 'mkfs.ext4', type === 'xfs' ? ['-q', image] : ['-q', '-F', image]);
  const { stdout } = await run('losetup', ['--find', '--show', image]);
  const device = stdout.trim();
  try {
    await run('mount', [device, mountPoint]);
  } catch (error) {
    await run('losetup', ['-d', device]);
    throw error;
  }
  return { dir, mountPoint, device, type };
}

/** Thaws (bounded), unmounts and detaches a scratch file system; safe to call twice. */
export async function destroyLoopFs(fs: LoopFs): Promise<void> {
  await run('fsfreeze', ['-u', fs.mountPoint], { timeout: 5_000 }).catch(() => undefined);
  await run('umount', [fs.mountPoint], { timeout: 10_000 }).catch(() =>
    run('umount', ['-l', fs.mountPoint], { timeout: 10_000 }).catch(() => undefined),
  );
  await run('losetup', ['-d', fs.device], { timeout: 5_000 }).catch(() => undefined);
  await rm(fs.dir, { recursive: true, force: true });
}

/** Disarms and kills the watchdog a hook state directory may have left (the lock holder ends on the release note), then removes it. */
export async function destroyStateDir(stateDir: string): Promise<void> {
  const pid = Number((await readFile(join(stateDir, 'watchdog.pid'), 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  await rm(join(stateDir, 'armed'), { force: true });
  await writeFile(join(stateDir, 'release'), '').catch(() => undefined);
  // A MySQL lock holder polls for the release note every 200 ms: let it see the note and exit.
  if ((await readFile(join(stateDir, 'mysql-mode'), 'utf8').catch(() => '')).trim() === 'held') {
    for (let waited = 0; waited < 5_000 && !existsSync(join(stateDir, 'holder.done')); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await rm(stateDir, { recursive: true, force: true });
  // The tests make state directories as <mkdtemp wk-state-*>/hook: remove the temp parent too.
  if (basename(dirname(stateDir)).startsWith('wk-state-'))
    await rm(dirname(stateDir), { recursive: true, force: true });
}

/** Result of running a hook phase. */
export interface HookRun {
  exitCode: number;
  stdout: string;
  status: HookStatus | undefined;
}

/** Runs a shell payload (the SSM `commands` lines), bounded; `sh` is dash on Debian, bash on Amazon Linux. */
export async function runPayload(
  lines: readonly string[],
  env: Record<string, string> = {},
  shell = 'sh',
): Promise<HookRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(shell, ['-s'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hook did not finish within 30 s; output so far: ${stdout}`));
    }, 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? -1, stdout, status: parseHookStatus(stdout) });
    });
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

/** Runs the freeze phase as SSM would (prelude + embedded script). */
export function freeze(
  spec: ActiveFreeze,
  runId: string,
  stateDir: string,
  env: Record<string, string> = {},
  shell = 'sh',
) {
  return runPayload(freezeCommands(spec, runId, stateDir), env, shell);
}

/** Runs the thaw phase as SSM would (the thaw is the same for every mode; `_spec` keeps calls symmetric). */
export function thaw(_spec: ActiveFreeze, runId: string, stateDir: string, shell = 'sh') {
  return runPayload(thawCommands(runId, stateDir), {}, shell);
}

/** A process writing a file into `dir`; blocked while the file system is frozen. */
export interface Writer {
  child: ChildProcess;
  done: Promise<number>;
}

/** Starts `sh -c 'echo ... > dir/name'`. */
export function startWriter(dir: string, name = 'probe'): Writer {
  const child = spawn('sh', ['-c', `echo written > "${dir}/${name}" && sync "${dir}/${name}"`], {
    stdio: 'ignore',
  });
  const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return { child, done };
}

/** Whether the writer is stuck in uninterruptible sleep (how a write waits on a frozen file system). */
export async function isBlocked(writer: Writer, settleMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + settleMs;
  while (Date.now() < deadline) {
    if (writer.child.exitCode !== null) return false;
    const stat = await readFile(`/proc/${writer.child.pid}/stat`, 'utf8').catch(() => '');
    // Field 3, after the parenthesised command name.
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('D')) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** Waits for a writer to finish, failing (not hanging) if it never does. */
export async function finishes(writer: Writer, withinMs = 15_000): Promise<number | 'still-blocked'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'still-blocked'>((resolve) => {
    timer = setTimeout(() => resolve('still-blocked'), withinMs);
  });
  try {
    return await Promise.race([writer.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
