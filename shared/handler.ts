/**
 * The Lambda handler every job uses: middy with Powertools Logger, the configuration embedded at
 * package time (validated there in full; here only global settings and this job's section), event
 * parsing (scheduled event or manual overrides), a deadline from the remaining time, the run,
 * the notification, and a crash path that notifies `job.failed` before failing the invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ConfigError } from './config/errors.ts';
import { notifySchema } from './config/global.ts';
import { resolveJobConfig } from './config/resolve.ts';
import { createDeadline } from './deadline.ts';
import { parseInvocationEvent } from './event.ts';
import { COMMON_CODES, countBySeverity, type Report, SEVERITIES_WORST_FIRST } from './findings.ts';
import type { JobDefinition, JobLogger } from './job.ts';
import { noSecrets } from './no-secrets.ts';
import { notifyRun, type Publisher } from './notify/notify.ts';
import { snsPublisher } from './notify/sns.ts';
import { Redactor } from './redact.ts';
import { runJob } from './runner.ts';
import { DynamoStateStore } from './state/dynamo.ts';
import type { StateStore } from './state/store.ts';

/** What the invocation returns (visible in `sls invoke` output). */
export interface HandlerResult {
  job: string;
  runId: string;
  status: Report['status'];
  findings: number;
  published: boolean;
}

/** Options for jobs that need more than the defaults. */
export interface HandlerOptions {
  /** Secret resolver for jobs that take `ssm:` references (import `ssmSecretResolver`). */
  secrets?: (redactor: Redactor) => (reference: string) => Promise<string>;
  /** Injected in tests; built from the environment otherwise. */
  state?: StateStore;
  publisher?: Publisher;
  logger?: Logger;
}

/** Builds the middy-wrapped Lambda handler of a job. */
export function makeHandler<C>(definition: JobDefinition<C>, options: HandlerOptions = {}) {
  const logger = options.logger ?? new Logger({ serviceName: 'watchkeeper' });

  const base = async (event: unknown, context: Context): Promise<HandlerResult> => {
    const redactor = new Redactor();
    const jobLogger = redactingLogger(logger, redactor);
    const invocation = parseInvocationEvent(event, context.awsRequestId);
    const publisher = options.publisher ?? snsPublisher(requireEnv('WATCHKEEPER_TOPIC_ARN'));
    const state = options.state ?? new DynamoStateStore(requireEnv('WATCHKEEPER_STATE_TABLE'));
    const now = () => new Date();

    const raw = embeddedConfig();
    let resolved: ReturnType<typeof resolveJobConfig<C>>;
    try {
      resolved = resolveJobConfig(raw, definition, invocation.overrides, 'watchkeeper.yml');
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Invalid config (usually a bad manual override): say so by mail too, then fail the invocation.
      const at = now().toISOString();
      const report: Report = {
        job: definition.name,
        runId: invocation.runId,
        startedAt: at,
        finishedAt: at,
        status: 'critical',
        findings: [
          {
            job: definition.name,
            code: COMMON_CODES.configInvalid,
            target: definition.name,
            severity: 'critical',
            message: `The configuration is invalid, nothing was checked: ${error.issues.join('; ')}`,
            data: { issues: error.issues },
          },
        ],
        stats: {},
      };
      jobLogger.error('invalid configuration', { issues: error.issues });
      await notifyRun(report, {
        settings: { ...notifySchema.parse({}), mode: 'always' },
        state,
        publisher,
        now: now(),
        redactor,
      });
      throw error;
    }

    const { report, error } = await runJob({
      definition,
      global: resolved.global,
      section: resolved.section,
      sections: raw,
      runId: invocation.runId,
      now,
      deadline: createDeadline(context.getRemainingTimeInMillis()),
      logger: jobLogger,
      state,
      resolveSecret: options.secrets ? options.secrets(redactor) : noSecrets,
      runtime: {
        inLambda: true,
        region: process.env['AWS_REGION'],
        ...(context.invokedFunctionArn ? { accountId: context.invokedFunctionArn.split(':')[4] ?? '' } : {}),
      },
    });
    const notified = await notifyRun(report, {
      settings: resolved.global.notify,
      state,
      publisher,
      now: now(),
      redactor,
    });
    recordMetrics(definition.name, report);
    jobLogger.info('run finished', {
      runId: report.runId,
      status: report.status,
      findings: report.findings.length,
      stats: report.stats,
      published: notified.published,
    });
    // A crashed job has notified `job.failed`; failing the invocation also trips the Errors alarm.
    if (error) throw error;
    return {
      job: report.job,
      runId: report.runId,
      status: report.status,
      findings: report.findings.length,
      published: notified.published,
    };
  };

  return middy(base).use(injectLambdaContext(logger, { clearState: true }));
}

/**
 * The configuration bundled into the function: esbuild replaces the variable below with
 * watchkeeper.yml as JSON at package time (validated in the same run). Tests set it in the environment.
 */
function embeddedConfig(): Record<string, unknown> {
  const text = process.env['WATCHKEEPER_EMBEDDED_CONFIG'];
  if (text === undefined || text === '') return {};
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('watchkeeper.yml', [
      '(top level): expected a mapping of settings and job sections',
    ]);
  }
  return value as Record<string, unknown>;
}

/**
 * Findings per severity and the run's duration as CloudWatch metrics (embedded metric format on
 * stdout: no API call, no IAM permission), namespace `watchkeeper`, dimension `job`.
 */
function recordMetrics(job: string, report: Report): void {
  const metrics = new Metrics({
    namespace: 'watchkeeper',
    serviceName: 'watchkeeper',
    defaultDimensions: { job },
  });
  const counts = countBySeverity(report.findings);
  for (const severity of SEVERITIES_WORST_FIRST) {
    metrics.addMetric(`findings_${severity}`, MetricUnit.Count, counts[severity]);
  }
  metrics.addMetric('run_duration', MetricUnit.Milliseconds, report.stats['durationMs'] ?? 0);
  metrics.publishStoredMetrics();
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`environment variable ${name} is not set (the stack sets it; set it for local invokes)`);
  return value;
}

/** A JobLogger over Powertools that masks secrets in messages and structured fields. */
function redactingLogger(logger: Logger, redactor: Redactor): JobLogger {
  const wrap =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, extra?: Record<string, unknown>): void => {
      if (extra === undefined) logger[level](redactor.redact(message));
      else logger[level](redactor.redact(message), redactor.redactValue(extra));
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
