/**
 * The deploy template, generated from watchkeeper.yml and the job registry: one function per job
 * with its schedule from the configuration, its own least-privilege IAM role, an Errors alarm and a
 * missed-run alarm, plus the SNS topic (with an optional email subscription) and the state table.
 */
import { jobs } from '#functions/registry.ts';
import { readConfigFile, validateConfig } from '#shared/config/load.ts';
import type { AnyJobDefinition, IamStatement } from '#shared/job.ts';
import { STATE_TABLE_KEYS, STATE_TABLE_TTL_ATTRIBUTE } from '#shared/state/dynamo.ts';
import { extraFunctions } from './extra-functions.ts';

/** Options of `buildStack`. */
export interface StackOptions {
  configPath: string;
  stage: string;
  alertEmail?: string;
}

type Json = Record<string, unknown>;

const SERVICE = 'watchkeeper';

/** Per-job Lambda timeouts (seconds); the runner stops starting work 10 s before. */
const TIMEOUT_SECONDS: Record<string, number> = {
  'check-instances': 60,
  'check-backups': 120,
  'audit-content-types': 900,
  'snapshot-volumes': 600,
};
const DEFAULT_TIMEOUT_SECONDS = 300;

/** When no run happened in this window, the missed-run alarm fires (cron schedules). */
const CRON_MISSED_RUN_SECONDS = 26 * 3600;

/** Builds `functions`, `resources` and `region` for serverless.yml. Throws on invalid configuration. */
export async function buildStack(
  options: StackOptions,
): Promise<{ region: string; functions: Json; resources: Json }> {
  const loaded = validateConfig(await readConfigFile(options.configPath), jobs, options.configPath);
  const functions: Json = {};
  const resources: Json = {
    AlertTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: { DisplayName: 'watchkeeper', TopicName: `${SERVICE}-${options.stage}-alerts` },
    },
    StateTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        ...STATE_TABLE_KEYS,
        TimeToLiveSpecification: { AttributeName: STATE_TABLE_TTL_ATTRIBUTE, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    },
  };
  if (options.alertEmail) {
    resources['AlertEmailSubscription'] = {
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: { Ref: 'AlertTopic' }, Protocol: 'email', Endpoint: options.alertEmail },
    };
  }

  for (const job of jobs) {
    const section = loaded.sections[job.section];
    const schedule = section === undefined ? false : (section as { schedule: string | false }).schedule;
    const key = job.name;
    const logical = logicalName(key);
    functions[key] = {
      handler: `functions/${job.name}/handler.handler`,
      description: job.description,
      timeout: TIMEOUT_SECONDS[job.name] ?? DEFAULT_TIMEOUT_SECONDS,
      role: `${logical}Role`,
      // A failed run has already notified job.failed; a retry would only duplicate it (and, for
      // snapshots, freeze again). The next scheduled run is the retry.
      maximumRetryAttempts: 0,
      events: schedule === false ? [] : [{ schedule: { rate: [schedule], enabled: true } }],
    };
    resources[`${logical}Role`] = role(key, options.stage, jobStatements(job, section));
    resources[`${logical}ErrorsAlarm`] = errorsAlarm(key, options.stage);
    if (schedule !== false)
      resources[`${logical}MissedRunAlarm`] = missedRunAlarm(key, options.stage, schedule);
  }

  for (const extra of extraFunctions(loaded.sections)) {
    const logical = logicalName(extra.name);
    functions[extra.name] = {
      handler: extra.handler,
      // Invoked by S3 Batch Operations, whose job role needs lambda:InvokeFunction on it.
      description: extra.description,
      timeout: extra.timeoutSeconds,
      role: `${logical}Role`,
      maximumRetryAttempts: 0,
      events: [],
    };
    // No SNS or state table: the worker reports to S3 Batch Operations, which writes the report.
    resources[`${logical}Role`] = role(extra.name, options.stage, extra.statements);
    resources[`${logical}ErrorsAlarm`] = errorsAlarm(extra.name, options.stage);
  }

  return {
    region: loaded.global.region ?? 'us-east-1',
    functions,
    resources: {
      Resources: resources,
      Outputs: {
        AlertTopicArn: { Value: { Ref: 'AlertTopic' } },
        StateTableName: { Value: { Ref: 'StateTable' } },
      },
    },
  };
}

/** What every function needs: publish findings, keep alert state. */
function commonStatements(): IamStatement[] {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation reference, resolved by substitute()
  const topic = '${AlertTopic}';
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation reference, resolved by substitute()
  const table = '${StateTable.Arn}';
  return [
    { actions: ['sns:Publish'], resources: [topic] },
    {
      actions: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:BatchWriteItem',
      ],
      resources: [table],
    },
  ];
}

function jobStatements(job: AnyJobDefinition, section: unknown): IamStatement[] {
  if (!job.permissions) return commonStatements();
  // Without a section, a job whose defaults are valid (check-instances: every instance) still gets
  // its permissions for manual invokes; one that needs targets (buckets, say) gets none.
  const parsed = section === undefined ? job.schema.safeParse({}) : { success: true as const, data: section };
  return [...commonStatements(), ...(parsed.success ? job.permissions(parsed.data) : [])];
}

function role(functionKey: string, stage: string, statements: IamStatement[]): Json {
  const functionName = `${SERVICE}-${stage}-${functionKey}`;
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
      Policies: [
        {
          PolicyName: `${functionKey}-policy`,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                Resource: substitute(
                  `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*`,
                ),
              },
              ...statements.map((statement) => ({
                Effect: 'Allow',
                Action: statement.actions,
                Resource: statement.resources.map(substitute),
                ...(statement.conditions ? { Condition: statement.conditions } : {}),
              })),
            ],
          },
        },
      ],
    },
  };
}

function errorsAlarm(functionKey: string, stage: string): Json {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${SERVICE}-${stage}-${functionKey}-errors`,
      AlarmDescription: `${functionKey} failed (it crashed, or could not notify). Its job.failed message says why.`,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: `${SERVICE}-${stage}-${functionKey}` }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: 'AlertTopic' }],
      OKActions: [{ Ref: 'AlertTopic' }],
    },
  };
}

/**
 * Fires when the function was not invoked in twice its schedule's period (missing data counts as
 * breaching), so a disabled rule or a broken deploy does not silence the monitor.
 */
function missedRunAlarm(functionKey: string, stage: string, schedule: string): Json {
  const window = Math.max(2 * scheduleSeconds(schedule), 600);
  // CloudWatch periods go up to a day; longer windows use several one-day periods that must all breach.
  const period = window <= 86_400 ? roundPeriod(window) : 86_400;
  const periods = window <= 86_400 ? 1 : Math.ceil(window / 86_400);
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${SERVICE}-${stage}-${functionKey}-missed-run`,
      AlarmDescription: `${functionKey} has not run within ${Math.round(window / 3600)} hours of its schedule ${schedule}.`,
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: `${SERVICE}-${stage}-${functionKey}` }],
      Statistic: 'Sum',
      Period: period,
      EvaluationPeriods: periods,
      DatapointsToAlarm: periods,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: 'AlertTopic' }],
      OKActions: [{ Ref: 'AlertTopic' }],
    },
  };
}

/** Seconds between runs of a `rate(...)` expression; cron schedules get a fixed window. */
export function scheduleSeconds(schedule: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  if (!match) return CRON_MISSED_RUN_SECONDS / 2;
  const unit = match[2]?.startsWith('minute') ? 60 : match[2]?.startsWith('hour') ? 3600 : 86_400;
  return Number(match[1]) * unit;
}

/** CloudWatch accepts periods that are multiples of 60 seconds. */
function roundPeriod(seconds: number): number {
  return Math.ceil(seconds / 60) * 60;
}

/**
 * `arn:${AWS::Partition}:sns:...:${AlertTopic}` as CloudFormation without `${}`: osls would take
 * `${...}` for its own variables, so references become Fn::Join parts (`Ref`, `Fn::GetAtt`).
 */
export function substitute(text: string): unknown {
  const parts: unknown[] = [];
  let last = 0;
  for (const match of text.matchAll(/\$\{([\w:]+)(?:\.(\w+))?\}/g)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    const [, name, attribute] = match;
    parts.push(attribute ? { 'Fn::GetAtt': [name, attribute] } : { Ref: name });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  if (parts.length === 1 && typeof parts[0] === 'string') return parts[0];
  return parts.length === 1 ? parts[0] : { 'Fn::Join': ['', parts] };
}

/** `check-instances` → `CheckInstances` (CloudFormation logical ids are alphanumeric). */
export function logicalName(key: string): string {
  return key
    .split(/[^A-Za-z0-9]/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
