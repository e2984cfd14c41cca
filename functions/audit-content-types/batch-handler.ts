/**
 * S3 Batch Operations "Invoke AWS Lambda function" handler (invocation schema 2.0; 1.0 accepted):
 * the same per-object audit and fix as the scheduled job, for buckets with millions of objects
 * driven by an S3 Inventory manifest. Batch Operations keeps the progress and writes the
 * completion report, so this handler only answers per task:
 * - Succeeded: the object was audited (its verdict, finding code and any fix are in resultString);
 *   problems are Succeeded too, or a broken bucket would trip the job's failure threshold;
 * - TemporaryFailure: throttling, 5xx, timeouts — Batch Operations retries the task;
 * - PermanentFailure: access denied, object gone, malformed task — retrying would not help.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { mapBounded } from '#shared/concurrency.ts';
import { createDeadline } from '#shared/deadline.ts';
import type { Deadline } from '#shared/job.ts';
import { s3Client } from './client.ts';
import { errorName } from './fix.ts';
import { type InspectOptions, inspectObject } from './inspect.ts';
import { normaliseOverrides } from './rules.ts';

/** Batch Operations' per-task result codes. */
export type BatchResultCode = 'Succeeded' | 'TemporaryFailure' | 'PermanentFailure';

const booleanArgument = z
  .enum(['true', 'false'])
  .transform((value) => value === 'true')
  .describe('"true" or "false" (user arguments are strings)');

/** `job.userArguments` (schema 2.0): strings only, at most 10 entries. */
export const userArgumentsSchema = z
  .object({
    fix: booleanArgument.default(false),
    sniff: booleanArgument.default(false),
    types: z
      .string()
      .transform((value, context) => {
        try {
          const parsed: unknown = JSON.parse(value);
          const record = z.record(z.string(), z.string()).parse(parsed);
          return record;
        } catch {
          context.addIssue({
            code: 'custom',
            message: 'expected a JSON object such as {"js":"application/javascript"}',
          });
          return z.NEVER;
        }
      })
      .default({})
      .describe('Expected type per extension as a JSON object string'),
  })
  .strict();

const taskSchema = z.object({
  taskId: z.string().min(1),
  s3Key: z.string().min(1),
  s3VersionId: z.string().nullish(),
  s3Bucket: z.string().min(1).optional(),
  s3BucketArn: z.string().min(1).optional(),
});

/** The invocation event (shape per the S3 User Guide, "Invoke AWS Lambda function"). */
export const batchEventSchema = z.object({
  invocationSchemaVersion: z.enum(['1.0', '2.0']),
  invocationId: z.string().min(1),
  job: z.object({ id: z.string().min(1), userArguments: z.record(z.string(), z.string()).nullish() }),
  tasks: z.array(taskSchema).min(1),
});

/** The invocation event. */
export type BatchEvent = z.infer<typeof batchEventSchema>;
type BatchTask = z.infer<typeof taskSchema>;

/** One task's result. */
export interface BatchTaskResult {
  taskId: string;
  resultCode: BatchResultCode;
  resultString: string;
}

/** The response Batch Operations expects. */
export interface BatchResponse {
  invocationSchemaVersion: string;
  treatMissingKeysAs: BatchResultCode;
  invocationId: string;
  results: BatchTaskResult[];
}

const TRANSIENT_ERRORS: ReadonlySet<string> = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TimeoutError',
  'AbortError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
]);

/** Whether retrying the task later could succeed (throttling, 5xx, timeouts, network). */
export function isTransient(error: unknown): boolean {
  if (TRANSIENT_ERRORS.has(errorName(error))) return true;
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_ERRORS.has(code)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}

/** Result strings are stored in the completion report CSV: keep them short. */
function clip(text: string): string {
  return text.length <= 900 ? text : `${text.slice(0, 897)}...`;
}

function bucketOf(task: BatchTask): string | undefined {
  if (task.s3Bucket !== undefined) return task.s3Bucket;
  return task.s3BucketArn?.replace(/^arn:[^:]+:s3:::/, '');
}

/** Manifest keys arrive URL-encoded (form encoding, `+` for space), as in Inventory CSVs. */
export function decodeTaskKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

async function runTask(
  s3: S3Client,
  task: BatchTask,
  options: InspectOptions,
  logger: Pick<Logger, 'info' | 'warn'>,
): Promise<BatchTaskResult> {
  const bucket = bucketOf(task);
  let key: string;
  try {
    key = decodeTaskKey(task.s3Key);
  } catch {
    return {
      taskId: task.taskId,
      resultCode: 'PermanentFailure',
      resultString: `malformed key "${clip(task.s3Key)}"`,
    };
  }
  if (bucket === undefined) {
    return { taskId: task.taskId, resultCode: 'PermanentFailure', resultString: 'task names no bucket' };
  }
  try {
    const inspection = await inspectObject(
      s3,
      task.s3VersionId ? { bucket, key, versionId: task.s3VersionId } : { bucket, key },
      options,
    );
    for (const finding of inspection.findings) logger.warn(finding.message, { finding });
    if (inspection.status === 'vanished') {
      return { taskId: task.taskId, resultCode: 'PermanentFailure', resultString: 'object no longer exists' };
    }
    const summary =
      inspection.findings.length === 0
        ? inspection.status === 'unknown-extension'
          ? 'ok: extension not known, nothing to compare'
          : 'ok'
        : inspection.findings.map((finding) => `${finding.code}: ${finding.message}`).join(' | ');
    return { taskId: task.taskId, resultCode: 'Succeeded', resultString: clip(summary) };
  } catch (error) {
    const name = errorName(error);
    logger.info('task failed', { bucket, key, error: name });
    return {
      taskId: task.taskId,
      resultCode: isTransient(error) ? 'TemporaryFailure' : 'PermanentFailure',
      resultString: clip(`${name}: ${error instanceof Error ? error.message : String(error)}`),
    };
  }
}

/** Handles one invocation with the given client; tasks not reached before the deadline are retried. */
export async function handleBatchEvent(
  input: unknown,
  s3: S3Client,
  deadline: Deadline,
  logger: Pick<Logger, 'info' | 'warn'>,
): Promise<BatchResponse> {
  const event = batchEventSchema.parse(input);
  const base = {
    invocationSchemaVersion: event.invocationSchemaVersion,
    treatMissingKeysAs: 'PermanentFailure' as const,
    invocationId: event.invocationId,
  };
  const parsedArguments = userArgumentsSchema.safeParse(event.job.userArguments ?? {});
  if (!parsedArguments.success) {
    // A job created with bad arguments fails every task the same way: say so in each.
    const reason = parsedArguments.error.issues
      .map((issue) => `userArguments.${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    return {
      ...base,
      results: event.tasks.map((task) => ({
        taskId: task.taskId,
        resultCode: 'PermanentFailure',
        resultString: clip(reason),
      })),
    };
  }
  const options: InspectOptions = {
    overrides: normaliseOverrides(parsedArguments.data.types),
    fix: parsedArguments.data.fix,
    sniff: parsedArguments.data.sniff,
    signal: deadline.signal,
    remainingMs: () => deadline.remainingMs(),
  };
  const { results, notStarted } = await mapBounded(
    event.tasks,
    4,
    (task) => runTask(s3, task, options, logger),
    deadline,
  );
  for (const task of notStarted) {
    results.push({
      taskId: task.taskId,
      resultCode: 'TemporaryFailure',
      resultString: 'not reached before the function timed out',
    });
  }
  return { ...base, results };
}

const logger = new Logger({
  serviceName: 'watchkeeper',
  persistentKeys: { job: 'audit-content-types-batch' },
});

/** Lambda entry point for the Batch Operations job (`functions/audit-content-types/batch-handler.handler`). */
export async function handler(
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<BatchResponse> {
  const deadline = createDeadline(Math.max(1_000, context.getRemainingTimeInMillis() - 2_000));
  return handleBatchEvent(event, s3Client(), deadline, logger);
}
