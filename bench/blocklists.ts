/**
 * check-blocklists vs `dig` with 20 parallel workers (check_rbl's default), same queries, same run:
 * 200 addresses × the default address zones plus their RFC 5782 test points, served by Debian's
 * rbldnsd on a loopback port. Verdicts of both sides must be identical; the ratio is printed.
 *
 *   node bench/blocklists.ts [--rounds 3] [--addresses 200]
 *
 * Needs the Debian packages rbldnsd and bind9-dnsutils (dig).
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { classifyDnsblAnswer } from '#functions/check-blocklists/classify.ts';
import { definition } from '#functions/check-blocklists/job.ts';
import { dnsblQueryName } from '#functions/check-blocklists/query-name.ts';
import { BUILTIN_ZONES, DEFAULT_ZONE_IDS, type ZoneSpec } from '#functions/check-blocklists/zones.ts';
import { localJobContext } from '#sandbox/job-context.ts';
import { mapBounded } from '#shared/concurrency.ts';
import { DnsClient } from '#shared/dns/client.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, addresses: { type: 'string', default: '200' } },
});
const ROUNDS = Number(values.rounds);
const COUNT = Number(values.addresses);
const DIG_WORKERS = 20;

for (const binary of ['/usr/sbin/rbldnsd', 'dig']) {
  if (spawnSync(binary, ['-h']).error) {
    console.error(`${binary} not found: apt-get install rbldnsd bind9-dnsutils`);
    process.exit(1);
  }
}

const zones: ZoneSpec[] = DEFAULT_ZONE_IDS.flatMap((id) => {
  const spec = BUILTIN_ZONES[id];
  return spec && spec.kind === 'ip' ? [spec] : [];
});
const addresses = Array.from(
  { length: COUNT },
  (_, index) => `198.18.${Math.floor(index / 250)}.${(index % 250) + 1}`,
);

// A few listings per zone, some with several codes (ZEN SBL + PBL) like real answers.
function zoneFile(zoneIndex: number): string {
  const lines = [':127.0.0.2:Listed, see https://lists.example/lookup?ip=$', '127.0.0.2'];
  addresses.forEach((address, index) => {
    if ((index + zoneIndex) % (7 + zoneIndex) === 0) lines.push(address);
  });
  return `${lines.join('\n')}\n`;
}
function pblFile(): string {
  const lines = [':127.0.0.10:PBL', '127.0.0.2'];
  addresses.forEach((address, index) => {
    if (index % 9 === 0) lines.push(address);
  });
  return `${lines.join('\n')}\n`;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function startRbldnsd(): Promise<{ resolver: string; stop(): Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), 'watchkeeper-bench-rbldnsd-'));
  await chmod(directory, 0o755);
  const specs: string[] = [];
  for (const [index, spec] of zones.entries()) {
    await writeFile(join(directory, spec.id), zoneFile(index), { mode: 0o644 });
    specs.push(`${spec.zone}:ip4set:${spec.id}`);
  }
  await writeFile(join(directory, 'pbl'), pblFile(), { mode: 0o644 });
  specs.push('zen.spamhaus.org:ip4set:pbl');
  const port = await freeUdpPort();
  const user = process.getuid?.() === 0 ? ['-u', 'rbldns'] : [];
  const daemon: ChildProcess = spawn(
    '/usr/sbin/rbldnsd',
    ['-n', '-q', '-4', '-b', `127.0.0.1/${port}`, '-w', directory, '-c', '0', ...user, ...specs],
    { stdio: 'ignore' },
  );
  const resolver = `127.0.0.1:${port}`;
  const probe = new DnsClient({ servers: [resolver], timeoutMs: 200, retries: 0 });
  for (let attempt = 0; ; attempt += 1) {
    if ((await probe.query(`2.0.0.127.${zones[0]?.zone}`, 'A')).status === 'answer') break;
    if (attempt > 50) throw new Error('rbldnsd did not start');
  }
  return {
    resolver,
    stop: async () => {
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Listed (address|zone) pairs according to watchkeeper. */
async function runWatchkeeper(
  resolver: string,
): Promise<{ ms: number; listed: Set<string>; unknown: number }> {
  const context = localJobContext(
    definition,
    definition.schema.parse({
      resolver,
      addresses,
      zones: zones.map((zone) => zone.id),
      // The same parallelism as the dig workers, so the ratio is not bought with more sockets.
      concurrency: DIG_WORKERS,
    }),
    { runId: 'bench', budgetMs: 300_000 },
  );
  const started = performance.now();
  const outcome = await definition.run(context);
  const ms = performance.now() - started;
  const listed = new Set<string>();
  let unknown = 0;
  for (const finding of outcome.findings) {
    if (finding.severity === 'unknown') unknown += 1;
    if (finding.code.endsWith('listed')) listed.add(`${finding.target}|${finding.subject}`);
  }
  return { ms, listed, unknown };
}

/** The same queries with dig, 20 workers: test points first (as a careful script would), then targets. */
async function runDig(
  resolver: string,
): Promise<{ ms: number; listed: Set<string>; unknown: number; queries: number }> {
  const [host, port = '53'] = resolver.split(':');
  const queries: { zone: ZoneSpec; item: string }[] = [];
  for (const zone of zones) {
    queries.push({ zone, item: '127.0.0.2' }, { zone, item: '127.0.0.1' });
    for (const address of addresses) queries.push({ zone, item: address });
  }
  const started = performance.now();
  const { results } = await mapBounded(queries, DIG_WORKERS, async ({ zone, item }) => {
    const name = dnsblQueryName({ queryZone: zone.zone }, item, 'ip');
    const { stdout } = await run('dig', ['+short', '+time=5', '+tries=2', `@${host}`, '-p', port, name, 'A']);
    const codes = stdout.split('\n').filter((line) => /^\d+\.\d+\.\d+\.\d+$/.test(line));
    const verdict = classifyDnsblAnswer(
      zone,
      codes.length === 0
        ? { status: 'nxdomain', authoritative: true, server: resolver }
        : {
            status: 'answer',
            authoritative: true,
            server: resolver,
            records: codes.map((value) => ({ type: 'A' as const, value, name, ttl: 0 })),
          },
    );
    return { zone, item, verdict };
  });
  const ms = performance.now() - started;
  const listed = new Set<string>();
  let unknown = 0;
  for (const { zone, item, verdict } of results) {
    const testPoint = item.startsWith('127.');
    if (verdict.kind === 'listed' && !testPoint) listed.add(`${item}|${zone.zone}`);
    if (verdict.kind !== 'listed' && verdict.kind !== 'clean') unknown += 1;
    if (testPoint && (verdict.kind === 'listed') !== (item === '127.0.0.2')) unknown += 1;
  }
  return { ms, listed, unknown, queries: queries.length };
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const server = await startRbldnsd();
try {
  const ours: number[] = [];
  const theirs: number[] = [];
  let queries = 0;
  for (let round = 1; round <= ROUNDS; round += 1) {
    const watchkeeper = await runWatchkeeper(server.resolver);
    const dig = await runDig(server.resolver);
    queries = dig.queries;
    const same =
      watchkeeper.listed.size === dig.listed.size &&
      [...dig.listed].every((pair) => watchkeeper.listed.has(pair));
    if (!same || watchkeeper.unknown !== 0 || dig.unknown !== 0) {
      console.error('verdicts differ', {
        watchkeeper: watchkeeper.listed.size,
        dig: dig.listed.size,
        unknown: [watchkeeper.unknown, dig.unknown],
      });
      process.exitCode = 1;
    }
    ours.push(watchkeeper.ms);
    theirs.push(dig.ms);
    console.log(
      `round ${round}: watchkeeper ${watchkeeper.ms.toFixed(0)} ms, dig ×${DIG_WORKERS} ${dig.ms.toFixed(0)} ms, ${dig.listed.size} listings, verdicts ${same ? 'identical' : 'DIFFERENT'}`,
    );
  }
  const ratio = median(theirs) / median(ours);
  console.log(
    `check-blocklists: ${addresses.length} addresses × ${zones.length} zones + test points = ${queries} A queries (plus TXT for listings) via rbldnsd on loopback, ${cpus().length} CPUs, Node ${process.version}`,
  );
  console.log(`watchkeeper (concurrency ${DIG_WORKERS}): median ${median(ours).toFixed(0)} ms`);
  console.log(`dig, ${DIG_WORKERS} parallel workers: median ${median(theirs).toFixed(0)} ms`);
  console.log(
    `ratio: ${ratio.toFixed(1)}× faster, identical verdicts: ${process.exitCode === 1 ? 'no' : 'yes'}`,
  );
} finally {
  await server.stop();
}
