/**
 * The generated CloudFormation, read from a real `sls package` (offline, no credentials), checked
 * against watchkeeper.yml and against what each function's bundle really sends: a role may hold
 * no action its code does not use, and must hold every action it does.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentTypesSchema } from '#functions/audit-content-types/config.ts';
import { jobs } from '#functions/registry.ts';
import { readConfigFile, validateConfig } from '#shared/config/load.ts';
import { bundleHandler, shippedOperations } from '../../deploy/bundle.ts';
import { extraFunctions } from '../../deploy/extra-functions.ts';
import { actionsForCommand } from '../../deploy/iam-actions.ts';
import { buildStack, logicalName } from '../../deploy/stack.ts';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}
interface Statement {
  Action: string[];
  Resource: unknown;
}

/** Every feature that sends AWS calls switched on, so every shipped command must be granted. */
const FULL_FEATURES = 'test/deploy/full-features.yml';
/** Every deployed function ([name, entry]): the jobs, and extra functions such as the S3 Batch worker. */
const functionsToCheck: Array<[string, string]> = [
  ...jobs.map((job): [string, string] => [job.name, `functions/${job.name}/handler.ts`]),
  ...extraFunctions(
    validateConfig(await readConfigFile(join(root, FULL_FEATURES)), jobs, FULL_FEATURES).sections,
  ).map((extra): [string, string] => [extra.name, extra.entry]),
];
let directory: string;
let template: Template;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'wk-package-'));
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_PROFILE: 'watchkeeper-none',
    WATCHKEEPER_CONFIG: FULL_FEATURES,
  };
  await exec('npx', ['sls', 'package', '--stage', 'test', '--package', directory], {
    cwd: root,
    env,
    timeout: 240_000,
  });
  template = JSON.parse(
    await readFile(join(directory, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
}, 300_000);

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function functionResource(job: string) {
  const resource = Object.values(template.Resources).find(
    (candidate) =>
      candidate.Type === 'AWS::Lambda::Function' &&
      candidate.Properties['FunctionName'] === `watchkeeper-test-${job}`,
  );
  if (!resource) throw new Error(`no function for ${job} in the template`);
  return resource;
}

function roleStatements(job: string): Statement[] {
  const role = template.Resources[`${logicalName(job)}Role`];
  const policies = (role?.Properties['Policies'] ?? []) as Array<{
    PolicyDocument: { Statement: Statement[] };
  }>;
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

describe('sls package template', () => {
  it('has one arm64 nodejs22.x function per job, each with its own role', () => {
    const roles = new Set<unknown>();
    for (const job of jobs) {
      const resource = functionResource(job.name);
      expect(resource.Properties['Runtime']).toBe('nodejs22.x');
      expect(resource.Properties['Architectures']).toEqual(['arm64']);
      roles.add(JSON.stringify(resource.Properties['Role']));
    }
    expect(roles.size).toBe(jobs.length);
  });

  it('schedules exactly the jobs configured in watchkeeper.yml, with their expressions', async () => {
    const loaded = validateConfig(
      await readConfigFile(join(root, 'watchkeeper.yml')),
      jobs,
      'watchkeeper.yml',
    );
    const rules = Object.values(template.Resources).filter(
      (resource) => resource.Type === 'AWS::Events::Rule',
    );
    const expected = jobs
      .map((job) => (loaded.sections[job.section] as { schedule?: string | false } | undefined)?.schedule)
      .filter((schedule): schedule is string => typeof schedule === 'string')
      .sort();
    expect(rules.map((rule) => rule.Properties['ScheduleExpression']).sort()).toEqual(expected);
  });

  it('creates the topic, the state table with TTL, and Errors and missed-run alarms to the topic', () => {
    expect(template.Resources['AlertTopic']?.Type).toBe('AWS::SNS::Topic');
    expect(template.Resources['StateTable']?.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    for (const job of jobs) {
      const errors = template.Resources[`${logicalName(job.name)}ErrorsAlarm`];
      expect(errors?.Properties).toMatchObject({
        MetricName: 'Errors',
        AlarmActions: [{ Ref: 'AlertTopic' }],
      });
    }
    const missed = Object.values(template.Resources).filter(
      (resource) =>
        resource.Type === 'AWS::CloudWatch::Alarm' && resource.Properties['MetricName'] === 'Invocations',
    );
    expect(missed.length).toBeGreaterThan(0);
    for (const alarm of missed) {
      expect(alarm.Properties).toMatchObject({
        TreatMissingData: 'breaching',
        ComparisonOperator: 'LessThanThreshold',
      });
    }
  });

  it('gives no function a wildcard action', () => {
    for (const job of jobs) {
      for (const statement of roleStatements(job.name)) {
        for (const action of statement.Action) expect(action, `${job.name}: ${action}`).not.toMatch(/\*/);
      }
    }
  });

  it.each(functionsToCheck)('grants %s exactly the actions its bundle sends', async (name, entry) => {
    const job = name;
    const granted = new Set(actionsOf(roleStatements(name)));
    const { required, allowed } = await bundleActions(entry);
    expect(
      [...required].filter((action) => !granted.has(action)),
      `${job} lacks`,
    ).toEqual([]);
    expect(
      [...granted].filter((action) => !allowed.has(action)),
      `${job} is granted but never sends`,
    ).toEqual([]);
  });

  it('grants nothing beyond the bundles for the repository watchkeeper.yml (features off stay ungranted)', async () => {
    const stack = await buildStack({ configPath: join(root, 'watchkeeper.yml'), stage: 'test' });
    const resources = stack.resources['Resources'] as Record<string, { Properties: Record<string, unknown> }>;
    for (const job of jobs) {
      const policies = (resources[`${logicalName(job.name)}Role`]?.Properties['Policies'] ?? []) as Array<{
        PolicyDocument: { Statement: Statement[] };
      }>;
      const granted = actionsOf(policies.flatMap((policy) => policy.PolicyDocument.Statement));
      const { allowed } = await bundleActions(`functions/${job.name}/handler.ts`);
      expect(
        granted.filter((action) => !allowed.has(action)),
        `${job.name} is granted but never sends`,
      ).toEqual([]);
    }
  });
});

const bundles = new Map<string, Promise<{ required: Set<string>; allowed: Set<string> }>>();

/** Required and allowed IAM actions of the SDK commands shipped in an entry's bundle (built once). */
function bundleActions(entry: string) {
  let pending = bundles.get(entry);
  if (!pending) {
    pending = bundleHandler(entry, directory).then((built) => {
      const required = new Set<string>();
      const allowed = new Set<string>();
      for (const { client, operation } of shippedOperations(built.metafile)) {
        const rule = actionsForCommand(client, operation);
        for (const action of rule.required) required.add(action);
        for (const action of [...rule.required, ...(rule.optional ?? [])]) allowed.add(action);
      }
      return { required, allowed };
    });
    bundles.set(entry, pending);
  }
  return pending;
}

function actionsOf(statements: Statement[]): string[] {
  return statements.flatMap((statement) => statement.Action).filter((action) => !action.startsWith('logs:'));
}

describe('buildStack', () => {
  it('deploys the S3 Batch worker on the same buckets, with fix permissions only where fix is on', () => {
    const audit = { buckets: [{ bucket: 'site', prefix: 'static/' }], fix: false };
    const [worker] = extraFunctions({ contentTypes: contentTypesSchema.parse(audit) });
    const actions = (worker?.statements ?? []).flatMap((statement) => statement.actions);
    expect(worker?.handler).toBe('functions/audit-content-types/batch-handler.handler');
    expect(actions).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(actions).not.toContain('s3:PutObject');
    const [fixer] = extraFunctions({ contentTypes: contentTypesSchema.parse({ ...audit, fix: true }) });
    expect(fixer?.statements.flatMap((statement) => statement.actions)).toContain('s3:PutObject');
    expect(extraFunctions({})).toEqual([]);
  });

  it('subscribes the alert email only when the alertEmail parameter is given', async () => {
    const configPath = join(root, 'watchkeeper.yml');
    const without = await buildStack({ configPath, stage: 'test' });
    const withEmail = await buildStack({ configPath, stage: 'test', alertEmail: 'ops@example.com' });
    const resources = (stack: Awaited<ReturnType<typeof buildStack>>) =>
      stack.resources['Resources'] as Record<string, { Properties: Record<string, unknown> }>;
    expect(resources(without)['AlertEmailSubscription']).toBeUndefined();
    expect(resources(withEmail)['AlertEmailSubscription']?.Properties).toMatchObject({
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});
