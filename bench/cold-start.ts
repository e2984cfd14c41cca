/**
 * Cold start of each function: its bundled size (built as `sls package` builds it) and the time
 * to start a fresh Node process and import the bundle, side by side with a bare Node start in the
 * same run, as a ratio. Goals (issue 2): SNS+DynamoDB-only jobs under 300 KB, EC2 jobs under 1 MB.
 *
 *   node bench/cold-start.ts [--runs N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jobs } from '#functions/registry.ts';
import { bundleHandler, shippedOperations } from '../deploy/bundle.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);

/** Median wall time (ms) of `runs` fresh processes running `script`. */
function medianStartMs(script: string): number {
  const times: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    const start = process.hrtime.bigint();
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

const directory = await mkdtemp(join(tmpdir(), 'wk-bench-cold-'));
try {
  const bare = medianStartMs('');
  console.log(`Node ${process.version}, ${runs} runs each, median; bare node start: ${bare.toFixed(1)} ms\n`);
  console.log(
    `${'function'.padEnd(22)} ${'size KB'.padStart(8)} ${'services'.padEnd(22)} ${'start ms'.padStart(9)} ${'ratio'.padStart(6)} ${'init ms'.padStart(8)}`,
  );
  for (const job of jobs) {
    const built = await bundleHandler(`functions/${job.name}/handler.ts`, directory);
    const services = [
      ...new Set(
        shippedOperations(built.metafile).map((operation) => operation.client.replace('client-', '')),
      ),
    ].sort();
    const started = medianStartMs(`await import(${JSON.stringify(built.outfile)});`);
    console.log(
      `${job.name.padEnd(22)} ${(built.bytes / 1024).toFixed(0).padStart(8)} ${services.join(',').padEnd(22)} ${started.toFixed(1).padStart(9)} ${(started / bare).toFixed(2).padStart(6)} ${(started - bare).toFixed(1).padStart(8)}`,
    );
  }
} finally {
  await rm(directory, { recursive: true, force: true });
}
