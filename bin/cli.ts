/**
 * The watchkeeper command line: `run`, `validate`, `list`, `schema`. `run` goes through the same
 * runner as the Lambda handler; exit statuses follow the monitoring-plugin convention
 * (0 ok/info, 1 warning, 2 critical, 3 unknown), 64 for usage errors, 78 for invalid configuration.
 */
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { jobs } from '#functions/registry.ts';
import {
  applySetOverrides,
  ConfigError,
  configJsonSchema,
  readConfigFile,
  resolveJobConfig,
  UsageError,
  validateConfig,
} from '#shared/config/load.ts';
import { createDeadline } from '#shared/deadline.ts';
import type { Report, Severity } from '#shared/findings.ts';
import type { JobLogger } from '#shared/job.ts';
import { renderDigest } from '#shared/notify/digest.ts';
import { notifyRun, type Publisher } from '#shared/notify/notify.ts';
import { snsPublisher } from '#shared/notify/sns.ts';
import { Redactor } from '#shared/redact.ts';
import { runJob } from '#shared/runner.ts';
import { ssmSecretResolver } from '#shared/secrets.ts';
import { FileStateStore } from '#shared/state/file.ts';

/** Exit statuses. */
export const EXIT = { ok: 0, warning: 1, critical: 2, unknown: 3, usage: 64, config: 78 } as const;

const STATUS_EXIT: Record<Severity, number> = { ok: 0, info: 0, warning: 1, critical: 2, unknown: 3 };

/** Where the CLI writes; tests pass buffers. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Publisher for --publish (tests inject one; SNS otherwise). */
  publisher?: Publisher;
}

const USAGE = `usage:
  watchkeeper run <job> [--config FILE] [--json] [--publish] [--set path=value ...] [--timeout SECONDS]
  watchkeeper validate [--config FILE]
  watchkeeper list
  watchkeeper schema            print the JSON Schema of watchkeeper.yml

  --config   configuration file (default: $WATCHKEEPER_CONFIG or ./watchkeeper.yml)
  --json     print the Report as JSON instead of the email digest
  --publish  send the result to SNS (notify.topicArn or $WATCHKEEPER_TOPIC_ARN), with alert state
  --set      override a setting for this run, e.g. --set certificates.warnDays=30
  --timeout  time budget of the run in seconds (default 900, Lambda's maximum)

exit status: 0 ok/info, 1 warning, 2 critical, 3 unknown, 64 usage error, 78 invalid configuration
`;

/** Runs the CLI with `argv` (without node and script); returns the exit status. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`watchkeeper: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.stderr(`watchkeeper: ${error.message}\n`);
      return EXIT.config;
    }
    throw error;
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return run(rest, io);
    case 'validate':
      return validate(rest, io);
    case 'list':
      parse(rest, {});
      for (const job of jobs)
        io.stdout(`${job.name.padEnd(22)} ${job.section.padEnd(14)} ${job.description}\n`);
      return EXIT.ok;
    case 'schema':
      parse(rest, {});
      io.stdout(`${JSON.stringify(configJsonSchema(jobs), null, 2)}\n`);
      return EXIT.ok;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse(args: readonly string[], options: NonNullable<Options>) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function configPath(value: unknown, env: NodeJS.ProcessEnv): string {
  return resolve(typeof value === 'string' ? value : (env['WATCHKEEPER_CONFIG'] ?? 'watchkeeper.yml'));
}

async function validate(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { config: { type: 'string' } });
  if (positionals.length > 0)
    throw new UsageError(`validate takes no arguments, got "${positionals.join(' ')}"`);
  const path = configPath(values['config'], io.env);
  const loaded = validateConfig(await readConfigFile(path), jobs, path);
  const scheduled = jobs.filter((job) => loaded.present.includes(job.section)).map((job) => job.name);
  io.stdout(
    `${path} is valid: ${scheduled.length} job section(s) configured (${scheduled.join(', ') || 'none'}).\n`,
  );
  return EXIT.ok;
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    config: { type: 'string' },
    json: { type: 'boolean' },
    publish: { type: 'boolean' },
    set: { type: 'string', multiple: true },
    timeout: { type: 'string' },
  });
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? 'run needs a job name (see "watchkeeper list")' : 'run takes one job',
    );
  }
  const name = positionals[0] as string;
  const definition = jobs.find((job) => job.name === name);
  if (!definition) {
    throw new UsageError(`unknown job "${name}"; jobs are: ${jobs.map((job) => job.name).join(', ')}`);
  }
  const timeoutSeconds = values['timeout'] === undefined ? 900 : Number(values['timeout']);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new UsageError(
      `--timeout expects a positive number of seconds, got "${String(values['timeout'])}"`,
    );
  }

  const path = configPath(values['config'], io.env);
  const raw = applySetOverrides(await readConfigFile(path), (values['set'] as string[] | undefined) ?? []);
  validateConfig(raw, jobs, path);
  const { global, section } = resolveJobConfig(raw, definition, undefined, path);

  const publish = values['publish'] === true;
  const topicArn = global.notify.topicArn ?? io.env['WATCHKEEPER_TOPIC_ARN'];
  if (publish && !io.publisher && !topicArn) {
    throw new ConfigError(path, [
      'notify.topicArn: --publish needs an SNS topic ARN here or in $WATCHKEEPER_TOPIC_ARN',
    ]);
  }

  const redactor = new Redactor();
  const state = await FileStateStore.open(join(dirname(path), '.watchkeeper', 'state.json'));
  const { report } = await runJob({
    definition,
    global,
    section,
    sections: raw,
    runId: randomUUID(),
    now: () => new Date(),
    deadline: createDeadline(timeoutSeconds * 1000),
    logger: stderrLogger(io, redactor, io.env['WATCHKEEPER_LOG_LEVEL'] ?? 'warn'),
    state,
    resolveSecret: ssmSecretResolver(redactor),
    runtime: { inLambda: false, region: global.region ?? io.env['AWS_REGION'] },
  });
  const safe = redactor.redactValue(report);
  io.stdout(
    values['json'] === true ? `${JSON.stringify(safe, null, 2)}\n` : redactor.redact(renderDigest(safe)),
  );

  if (publish) {
    const publisher = io.publisher ?? snsPublisher(topicArn as string);
    const result = await notifyRun(safe, {
      settings: global.notify,
      state,
      publisher,
      now: new Date(),
      redactor,
    });
    io.stderr(
      result.published
        ? `published to SNS${result.messageId ? ` (${result.messageId})` : ''}\n`
        : 'nothing new to publish\n',
    );
  }
  return exitStatus(report);
}

/** Exit status of a report (monitoring-plugin convention). */
export function exitStatus(report: Report): number {
  return STATUS_EXIT[report.status];
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

function stderrLogger(io: CliIo, redactor: Redactor, level: string): JobLogger {
  const threshold = Math.max(0, LEVELS.indexOf(level as (typeof LEVELS)[number]));
  const write =
    (at: (typeof LEVELS)[number]) =>
    (message: string, extra?: Record<string, unknown>): void => {
      if (LEVELS.indexOf(at) < threshold) return;
      const detail = extra === undefined ? '' : ` ${JSON.stringify(extra)}`;
      io.stderr(redactor.redact(`${at}: ${message}${detail}\n`));
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
