/**
 * Debian's rbldnsd (what DNSBL operators run) and unbound (a recursive resolver in front of it) for
 * the interop suite: each started in the foreground on a free loopback port from files in a
 * temporary directory, and stopped with its directory removed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DnsClient } from '#shared/dns/client.ts';

/** A started daemon. */
export interface Daemon {
  /** `127.0.0.1:port` */
  address: string;
  port: number;
  stop(): Promise<void>;
}

/** A port on 127.0.0.1 free for both UDP and TCP (unbound listens on both). */
export async function freeUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const { port } = socket.address();
    const tcpFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (tcpFree) return port;
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}

function requireBinary(path: string, pkg: string): void {
  if (spawnSync(path, ['-h']).error) throw new Error(`${path} not found: apt-get install ${pkg}`);
}

async function startDaemon(
  binary: string,
  args: (port: number, directory: string) => string[],
  files: (port: number, directory: string) => Record<string, string>,
  probeName: string,
): Promise<Daemon> {
  const directory = await mkdtemp(join(tmpdir(), 'watchkeeper-blocklists-'));
  // rbldnsd drops privileges to its own user before it reads the zone files.
  await chmod(directory, 0o755);
  const port = await freeUdpPort();
  for (const [name, content] of Object.entries(files(port, directory))) {
    await writeFile(join(directory, name), content, { mode: 0o644 });
  }
  let output = '';
  const child: ChildProcess = spawn(binary, args(port, directory), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(directory, { recursive: true, force: true });
  };
  const address = `127.0.0.1:${port}`;
  const probe = new DnsClient({ servers: [address], timeoutMs: 200, retries: 0 });
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (child.exitCode !== null) break;
    const outcome = await probe.query(probeName, 'A');
    if (outcome.status !== 'failed' || (outcome.reason !== 'timeout' && outcome.reason !== 'network')) {
      return { address, port, stop };
    }
  }
  await stop();
  throw new Error(`${binary} did not start: ${output}`);
}

/** Starts rbldnsd serving `zones` (`zone:type:file`) from `files`. */
export async function startRbldnsd(files: Record<string, string>, zones: readonly string[]): Promise<Daemon> {
  requireBinary('/usr/sbin/rbldnsd', 'rbldnsd');
  const user = process.getuid?.() === 0 ? ['-u', 'rbldns'] : [];
  const first = zones[0]?.split(':')[0] ?? 'example';
  return startDaemon(
    '/usr/sbin/rbldnsd',
    (port, directory) => [
      '-n',
      '-4',
      '-b',
      `127.0.0.1/${port}`,
      '-w',
      directory,
      '-c',
      '0',
      ...user,
      ...zones,
    ],
    () => files,
    `2.0.0.127.${first}`,
  );
}

/** Starts unbound as a recursive resolver whose only delegations are the given stub zones. */
export async function startUnbound(stubs: readonly { zone: string; server: string }[]): Promise<Daemon> {
  requireBinary('/usr/sbin/unbound', 'unbound');
  const config = (port: number, directory: string) =>
    [
      'server:',
      '  interface: 127.0.0.1',
      `  port: ${port}`,
      '  do-daemonize: no',
      '  use-syslog: no',
      '  logfile: ""',
      '  username: ""',
      '  chroot: ""',
      `  directory: "${directory}"`,
      '  pidfile: ""',
      '  do-ip6: no',
      '  access-control: 127.0.0.0/8 allow',
      '  do-not-query-localhost: no',
      '  module-config: "iterator"',
      '  qname-minimisation: no',
      ...stubs.flatMap(({ zone, server }) => [
        'stub-zone:',
        `  name: "${zone}"`,
        `  stub-addr: ${server.replace(':', '@')}`,
      ]),
    ].join('\n');
  return startDaemon(
    '/usr/sbin/unbound',
    (_port, directory) => ['-d', '-c', join(directory, 'unbound.conf')],
    (port, directory) => ({ 'unbound.conf': `${config(port, directory)}\n` }),
    `2.0.0.127.${stubs[0]?.zone ?? 'example'}`,
  );
}
