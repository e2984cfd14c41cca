/**
 * `npm run demo`: a local sandbox on loopback (TLS endpoints with good and bad certificates, an
 * authoritative DNS server with demo zones, a DNS blocklist, SMTP servers, an S3-compatible
 * server) and every job that can run without an AWS account, run through the CLI's own code
 * path against it. Prints each job's email digest, then stops everything. No internet needed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { main } from '../bin/cli.ts';
import type { StartedDemoPart } from './demo-part.ts';
import { demoParts } from './demo-parts.ts';
import { type RunningDnsServer, startDnsServer } from './dns-server.ts';

const RULE = '='.repeat(78);

/** Runs the demo; resolves to the number of parts that failed to run. */
export async function runDemo(write: (text: string) => void): Promise<number> {
  const directory = await mkdtemp(join(tmpdir(), 'watchkeeper-demo-'));
  let dns: RunningDnsServer | undefined;
  const started: Array<{ job: string; part: StartedDemoPart }> = [];
  let failures = 0;
  try {
    dns = await startDnsServer({ records: demoParts.flatMap((part) => part.records ?? []) });
    write(`watchkeeper demo: local sandbox on loopback, DNS at ${dns.address}\n`);
    for (const part of demoParts) {
      started.push({ job: part.job, part: await part.start({ resolver: dns.address }) });
    }
    for (const { job, part } of started) {
      const runs = [{ title: job, section: part.section }, ...(part.followUp ? [part.followUp] : [])];
      for (const run of runs) {
        write(
          `\n${RULE}\n${run.title === job ? `watchkeeper run ${job}` : `${job}: ${run.title}`}\n${RULE}\n`,
        );
        const status = await runJobThroughCli(directory, job, run.section, part.env ?? {}, write);
        write(`(exit status ${status}: ${describeExit(status)})\n`);
        if (status >= 64) failures += 1;
      }
    }
    write(
      `\n${RULE}\nNot run here: check-instances, snapshot-volumes and check-backups need an AWS account\n(see README.md, "Deploying to AWS"; their tests run them against mocked EC2 and SSM).\n`,
    );
  } finally {
    for (const { part } of started.reverse()) await part.close().catch(() => undefined);
    await dns?.close();
    await rm(directory, { recursive: true, force: true });
  }
  return failures;
}

async function runJobThroughCli(
  directory: string,
  job: string,
  section: Record<string, unknown>,
  env: Record<string, string>,
  write: (text: string) => void,
): Promise<number> {
  const definition = (await import('#functions/registry.ts')).jobs.find(
    (candidate) => candidate.name === job,
  );
  if (!definition) throw new Error(`demo part for unknown job ${job}`);
  const path = join(directory, `${job}.yml`);
  await writeFile(path, stringify({ [definition.section]: section }));
  // The AWS SDK reads endpoint overrides from the process environment.
  const saved = new Map(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    // Warnings are findings already; the digest says them better than log lines.
    const cliEnv = { ...process.env, WATCHKEEPER_LOG_LEVEL: process.env['WATCHKEEPER_LOG_LEVEL'] ?? 'error' };
    return await main(['run', job, '--config', path], { stdout: write, stderr: write, env: cliEnv });
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

function describeExit(status: number): string {
  return (
    ['ok', 'warning', 'critical', 'unknown'][status] ?? (status === 78 ? 'invalid configuration' : 'error')
  );
}

if (import.meta.main) {
  const failures = await runDemo((text) => process.stdout.write(text));
  process.exitCode = failures > 0 ? 1 : 0;
}
