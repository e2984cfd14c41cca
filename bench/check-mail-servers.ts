/**
 * check-mail-servers vs swaks (the "telnet replacement" admins use to test an SMTP server by
 * hand, Debian package `swaks`) run as one process per server with the same concurrency — the
 * way a shell or Nagios-style wrapper would probe a fleet. Same servers, same conversation
 * (greeting, EHLO, STARTTLS, EHLO, MAIL FROM, RCPT TO, QUIT), same run; the relay verdicts of both
 * sides must agree. watchkeeper additionally looks up each PTR and sends RSET.
 *
 *   node bench/check-mail-servers.ts [--servers 40] [--concurrency 10] [--rounds 3]
 *
 * Needs the Debian packages swaks, libio-socket-ssl-perl and libnet-ssleay-perl (for --tls).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { definition } from '#functions/check-mail-servers/job.ts';
import { startDnsServer } from '#sandbox/dns-server.ts';
import { localJobContext } from '#sandbox/job-context.ts';
import { mapBounded } from '#shared/concurrency.ts';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
  },
});
const COUNT = Number(values.servers);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);

if (spawnSync('swaks', ['--version']).error) {
  console.error('swaks not found: apt-get install swaks libio-socket-ssl-perl libnet-ssleay-perl');
  process.exit(1);
}

interface BenchServer {
  host: string;
  port: number;
  openRelay: boolean;
}

const child = spawn(
  process.execPath,
  [new URL('./check-mail-servers/servers.ts', import.meta.url).pathname, String(COUNT)],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const [firstLine] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
const servers = z
  .array(z.object({ host: z.string(), port: z.number(), openRelay: z.boolean() }))
  .parse(JSON.parse(firstLine)) as BenchServer[];

const dns = await startDnsServer({
  records: servers.map((server) => ({
    name: `${server.host.split('.').reverse().join('.')}.in-addr.arpa`,
    type: 'PTR' as const,
    data: `mx${server.host.split('.')[3]}.bench.test`,
  })),
});

const section = definition.schema.parse({
  resolver: dns.address,
  concurrency: CONCURRENCY,
  servers: servers.map((server) => ({ host: server.host, ports: [{ port: server.port, mode: 'mx' }] })),
});

async function watchkeeper(): Promise<Map<string, boolean>> {
  const context = localJobContext(definition, section, { runId: 'bench', resolveSecret: async () => '' });
  const { findings } = await definition.run(context);
  const verdicts = new Map<string, boolean>();
  for (const finding of findings) {
    if (finding.subject && (finding.code === 'smtp.open-relay' || finding.code === 'smtp.ok')) {
      verdicts.set(finding.subject, finding.code === 'smtp.open-relay');
    }
  }
  return verdicts;
}

/** swaks exits 0 when every step succeeded (RCPT accepted: open) and 24 when RCPT was refused. */
function swaks(server: BenchServer): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile(
      'swaks',
      [
        '--server',
        server.host,
        '--port',
        String(server.port),
        '--tls',
        '--quit-after',
        'RCPT',
        '--helo',
        'watchkeeper-probe.example.net',
        '--from',
        'watchkeeper-probe@example.org',
        '--to',
        'relay-test@example.net',
        '--timeout',
        '10',
      ],
      (error) => {
        const code = error ? (error as { code?: number }).code : 0;
        if (code === 0) resolve(true);
        else if (code === 24) resolve(false);
        else reject(new Error(`swaks against ${server.host}:${server.port} exited ${code}`));
      },
    );
  });
}

async function swaksFleet(): Promise<Map<string, boolean>> {
  const { results } = await mapBounded(
    servers,
    CONCURRENCY,
    async (server) => [server.host, await swaks(server)] as const,
  );
  return new Map(results);
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

const expected = new Map(servers.map((server) => [server.host, server.openRelay]));
const same = (verdicts: Map<string, boolean>) =>
  verdicts.size === expected.size && [...expected].every(([host, open]) => verdicts.get(host) === open);

await watchkeeper(); // warm-up: module loading and TLS contexts, not part of a round
const ours: number[] = [];
const theirs: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const a = await time(watchkeeper);
  const b = await time(swaksFleet);
  if (!same(a.value) || !same(b.value))
    throw new Error("relay verdicts differ from the servers' configuration");
  ours.push(a.ms);
  theirs.push(b.ms);
}
const median = (list: number[]) => [...list].sort((x, y) => x - y)[Math.floor(list.length / 2)] ?? Number.NaN;
const oursMs = median(ours);
const theirsMs = median(theirs);
console.log(
  `servers: ${COUNT} (${servers.filter((server) => server.openRelay).length} open relays), concurrency ${CONCURRENCY}, rounds ${ROUNDS}, ${cpus().length} CPUs, node ${process.version}`,
);
console.log(
  `watchkeeper check-mail-servers (one process, PTR + RSET included): ${oursMs.toFixed(0)} ms median`,
);
console.log(
  `swaks, one process per server:                                   ${theirsMs.toFixed(0)} ms median`,
);
console.log(`ratio swaks / watchkeeper: ${(theirsMs / oursMs).toFixed(1)}x (verdicts identical)`);

child.stdin.end();
await once(child, 'exit');
await dns.close();
