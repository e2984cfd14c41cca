/**
 * Benchmark: check-dns's full mail checks of 200 domains (MX and host addresses, SPF tree and
 * sender evaluation, DMARC, DKIM, PTR and FCrDNS) against the same query set sent as sequential
 * `dig` processes, the way shell-based checkers work. Both run in this process's run against one
 * local authoritative server on loopback, so the network is not what is measured.
 *
 *   node bench/dns.ts [--domains 200] [--runs 3]
 *
 * Needs `dig` (Debian: bind9-dnsutils).
 */
import { execFile, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { definition } from '#functions/check-dns/job.ts';
import { type RunningDnsServer, startDnsServer, type ZoneRecord } from '#sandbox/dns-server.ts';
import { testContext } from '../test/support/context.ts';

const { values: args } = parseArgs({
  options: { domains: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' } },
});
const DOMAINS = Number(args.domains);
const RUNS = Number(args.runs);

function txt(name: string, value: string): ZoneRecord {
  const chunks: string[] = [];
  for (let index = 0; index < value.length; index += 255) chunks.push(value.slice(index, index + 255));
  return { name, type: 'TXT', data: chunks };
}

/** 200 mail domains shaped like real ones: two MX, an SPF with a shared provider include. */
function zones(count: number): { records: ZoneRecord[]; section: Record<string, unknown> } {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  const records: ZoneRecord[] = [
    txt('_spf.provider.bench', 'v=spf1 ip4:198.18.0.0/16 include:_spf2.provider.bench ~all'),
    txt('_spf2.provider.bench', 'v=spf1 ip6:2001:db8::/32 -all'),
  ];
  const domains: unknown[] = [];
  for (let index = 0; index < count; index += 1) {
    const domain = `d${index}.bench`;
    const ip = `198.18.${Math.floor(index / 250)}.${(index % 250) + 1}`;
    const reverse = ip.split('.').reverse().join('.');
    records.push(
      { name: domain, type: 'MX', data: { preference: 10, exchange: `mx1.${domain}` } },
      { name: domain, type: 'MX', data: { preference: 20, exchange: `mx2.${domain}` } },
      { name: `mx1.${domain}`, type: 'A', data: ip },
      { name: `mx2.${domain}`, type: 'A', data: ip },
      txt(domain, `v=spf1 mx include:_spf.provider.bench -all`),
      txt(`_dmarc.${domain}`, `v=DMARC1; p=reject; rua=mailto:dmarc@${domain}`),
      txt(`s1._domainkey.${domain}`, `v=DKIM1; k=rsa; p=${key.toString('base64')}`),
      { name: `${reverse}.in-addr.arpa`, type: 'PTR', data: `mx1.${domain}` },
    );
    domains.push({
      name: domain,
      records: { MX: [`10 mx1.${domain}`, `20 mx2.${domain}`] },
      mail: { senders: [{ ip, hostname: `mx1.${domain}` }], dkimSelectors: ['s1'] },
    });
  }
  return { records, section: { domains, timeoutMs: 2000, retries: 1, concurrency: 32 } };
}

async function runJob(server: RunningDnsServer, section: Record<string, unknown>) {
  const ctx = testContext(definition, { ...section, resolver: server.address }, { budgetMs: 600_000 });
  const start = performance.now();
  const outcome = await definition.run(ctx);
  const ms = performance.now() - start;
  const notOk = outcome.findings.filter((finding) => finding.severity !== 'ok');
  if (notOk.length > 0) throw new Error(`benchmark zone is not healthy: ${notOk[0]?.message}`);
  return { ms, queries: outcome.stats['queries'] ?? 0 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const dig = spawnSync('dig', ['-v'], { encoding: 'utf8' });
if (dig.error) {
  console.error('dig is not installed (Debian: apt-get install bind9-dnsutils)');
  process.exit(1);
}

const { records, section } = zones(DOMAINS);
const server = await startDnsServer({ records });
try {
  // Warm-up run (JIT, key parsing), then the measured runs; the query set of the last run is replayed.
  await runJob(server, section);
  const times: number[] = [];
  let asked: { name: string; type: string }[] = [];
  let queries = 0;
  for (let run = 0; run < RUNS; run += 1) {
    const before = server.queries.length;
    const result = await runJob(server, section);
    times.push(result.ms);
    queries = result.queries;
    asked = server.queries.slice(before).map(({ name, type }) => ({ name, type }));
  }
  const jobMs = median(times);

  const digStart = performance.now();
  // One dig process after the other; awaited (not spawnSync) because the server answers from this
  // process's event loop.
  const run = promisify(execFile);
  for (const query of asked) {
    const { stdout } = await run('dig', [
      '@127.0.0.1',
      '-p',
      String(server.port),
      '+tries=1',
      '+time=2',
      query.name,
      query.type,
    ]);
    if (!stdout.includes('status: NOERROR') && !stdout.includes('status: NXDOMAIN'))
      throw new Error(`dig ${query.name} ${query.type} got no answer: ${stdout}`);
  }
  const digMs = performance.now() - digStart;

  console.log(
    `check-dns benchmark: ${DOMAINS} domains, full mail checks, ${asked.length} DNS queries per run`,
  );
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`);
  console.log(
    `check-dns (concurrency 32, median of ${RUNS}): ${jobMs.toFixed(0)} ms  (${queries} queries counted by the job)`,
  );
  console.log(`sequential dig processes, same queries:      ${digMs.toFixed(0)} ms`);
  console.log(`ratio: ${(digMs / jobMs).toFixed(1)}× faster`);
} finally {
  await server.close();
}
