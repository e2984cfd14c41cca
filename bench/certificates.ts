/**
 * Benchmark: check-certificates against the approach of ssl-cert-check and the common Lambda
 * snippets — one `openssl s_client` per endpoint, one after another, piped into `openssl x509` —
 * on the same 300 loopback endpoints in the same run. The endpoints are served by a separate
 * process (bench/certificates/servers.ts) so neither side pays for the servers' handshakes.
 * Both sides' verdicts are checked against the states the endpoints were built with.
 *
 *   node bench/certificates.ts            # BENCH_ENDPOINTS=300, concurrency 32
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { definition } from '#functions/check-certificates/job.ts';
import { startDnsServer } from '#sandbox/dns-server.ts';
import { localJobContext } from '#sandbox/job-context.ts';
import type { Finding } from '#shared/findings.ts';
import { MemoryStateStore } from '#shared/state/memory.ts';
import type { BenchEndpoint, BenchState } from './certificates/servers.ts';

const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const DAY_SECONDS = 86_400;

const child = spawn(process.execPath, [join(import.meta.dirname, 'certificates', 'servers.ts')], {
  stdio: ['pipe', 'pipe', 'inherit'],
  env: process.env,
});
const firstLine = await new Promise<string>((resolve, reject) => {
  const lines = createInterface({ input: child.stdout });
  lines.once('line', resolve);
  child.once('exit', (code) => reject(new Error(`the endpoint server exited with ${code}`)));
});
const estate = JSON.parse(firstLine) as { caPem: string; endpoints: BenchEndpoint[] };
const directory = await mkdtemp(join(tmpdir(), 'watchkeeper-bench-'));
const caFile = join(directory, 'ca.pem');
await writeFile(caFile, estate.caPem);
const dns = await startDnsServer({
  records: estate.endpoints.map((endpoint) => ({ name: endpoint.name, type: 'A', data: endpoint.address })),
});

/** The code watchkeeper must report for each state. */
const EXPECTED: Record<BenchState, string> = {
  valid: 'certificate.ok',
  warning: 'certificate.expiring',
  critical: 'certificate.expiring',
  expired: 'certificate.expired',
  'wrong-host': 'certificate.hostname-mismatch',
};

async function runWatchkeeper(): Promise<{ ms: number; findings: Finding[] }> {
  const config = definition.schema.parse({
    endpoints: estate.endpoints.map((endpoint) => ({ host: endpoint.name, port: endpoint.port })),
    resolver: dns.address,
    caFile,
    concurrency: CONCURRENCY,
    addressFamilies: ['ipv4'],
  });
  const state = new MemoryStateStore();
  const started = performance.now();
  const outcome = await definition.run(localJobContext(definition, config, { runId: 'bench', state }));
  return { ms: performance.now() - started, findings: outcome.findings };
}

/** ssl-cert-check's loop: s_client per host, the certificate piped into x509, dates compared. */
function runOpensslSequential(): {
  ms: number;
  verdicts: Map<string, 'ok' | 'expiring' | 'expired' | 'failed'>;
} {
  const verdicts = new Map<string, 'ok' | 'expiring' | 'expired' | 'failed'>();
  const started = performance.now();
  for (const endpoint of estate.endpoints) {
    const result = spawnSync(
      'sh',
      [
        '-c',
        `echo "" | openssl s_client -connect ${endpoint.address}:${endpoint.port} -servername ${endpoint.name} 2>/dev/null | openssl x509 -noout -enddate`,
      ],
      { encoding: 'utf8', timeout: 15_000 },
    );
    const match = /notAfter=(.+)/.exec(result.stdout);
    if (!match?.[1]) {
      verdicts.set(endpoint.name, 'failed');
      continue;
    }
    const secondsLeft = (Date.parse(match[1]) - Date.now()) / 1000;
    verdicts.set(
      endpoint.name,
      secondsLeft <= 0 ? 'expired' : secondsLeft <= 21 * DAY_SECONDS ? 'expiring' : 'ok',
    );
  }
  return { ms: performance.now() - started, verdicts };
}

try {
  // One warm-up run each so module loading and OpenSSL's first-use costs do not count.
  await runWatchkeeper();
  const ours = await runWatchkeeper();
  const theirs = runOpensslSequential();

  let wrong = 0;
  for (const endpoint of estate.endpoints) {
    const codes = ours.findings
      .filter((finding) => finding.target === `${endpoint.name}:${endpoint.port}`)
      .map((finding) => finding.code);
    if (codes.length !== 1 || codes[0] !== EXPECTED[endpoint.state]) {
      wrong += 1;
      console.error(
        `watchkeeper: ${endpoint.name} (${endpoint.state}) gave ${codes.join(', ') || 'nothing'}`,
      );
    }
  }
  let opensslWrong = 0;
  for (const endpoint of estate.endpoints) {
    const expected =
      endpoint.state === 'expired'
        ? 'expired'
        : endpoint.state === 'warning' || endpoint.state === 'critical'
          ? 'expiring'
          : 'ok';
    if (theirs.verdicts.get(endpoint.name) !== expected) opensslWrong += 1;
  }
  const wrongHost = estate.endpoints.filter((endpoint) => endpoint.state === 'wrong-host').length;

  console.log(
    `endpoints: ${estate.endpoints.length} on loopback (${wrongHost} wrong host, the rest valid/expiring/expired), concurrency ${CONCURRENCY}, ${cpus().length} CPUs, node ${process.version}, ${spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout.trim()}`,
  );
  console.log(
    `watchkeeper check-certificates: ${ours.ms.toFixed(0)} ms, ${estate.endpoints.length - wrong}/${estate.endpoints.length} findings correct`,
  );
  console.log(
    `sequential openssl s_client | openssl x509: ${theirs.ms.toFixed(0)} ms, ${estate.endpoints.length - opensslWrong}/${estate.endpoints.length} expiry verdicts correct (no host-name, chain or key checks)`,
  );
  console.log(`ratio openssl / watchkeeper: ${(theirs.ms / ours.ms).toFixed(1)}x`);
  if (wrong > 0) process.exitCode = 1;
} finally {
  child.stdin.end();
  await dns.close();
  await rm(directory, { recursive: true, force: true });
}
