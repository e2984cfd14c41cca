import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnsMessage } from '#shared/notify/message.ts';
import { EXIT, main } from '../../bin/cli.ts';
import { type Ec2Endpoint, startEc2Endpoint } from '../support/ec2-endpoint.ts';

const run = promisify(execFile);
let directory: string;
let ec2: Ec2Endpoint;

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const published: SnsMessage[] = [];
  const status = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
    publisher: {
      publish: async (message) => {
        published.push(message);
        return { messageId: 'local-1' };
      },
    },
  });
  return { status, stdout, stderr, published };
}

async function configFile(name: string, text: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, text);
  return path;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'wk-cli-'));
  ec2 = await startEc2Endpoint([
    { id: 'i-0bbbbbbbbbbbbbbb1', name: 'api', state: 'running', instanceStatus: 'impaired' },
    { id: 'i-0bbbbbbbbbbbbbbb2', name: 'web', state: 'running' },
  ]);
});
afterAll(async () => {
  await ec2.close();
  await rm(directory, { recursive: true, force: true });
});

describe('watchkeeper CLI', () => {
  it('lists the jobs', async () => {
    const { status, stdout } = await cli(['list']);
    expect(status).toBe(EXIT.ok);
    expect(stdout).toMatch(/^check-instances\s+instances\s+EC2 scheduled events/m);
  });

  it('exits 64 with usage for an unknown command, job or flag, and sends nothing', async () => {
    expect((await cli(['frobnicate'])).status).toBe(EXIT.usage);
    const unknownJob = await cli(['run', 'check-everything']);
    expect(unknownJob.status).toBe(EXIT.usage);
    expect(unknownJob.stderr).toMatch(/unknown job "check-everything"; jobs are: .*check-instances/);
    const badFlag = await cli(['run', 'check-instances', '--verbose']);
    expect(badFlag.status).toBe(EXIT.usage);
    expect(badFlag.stderr).toMatch(/--verbose/);
    expect(badFlag.published).toEqual([]);
  });

  it('exits 78 naming the field for invalid configuration, and sends nothing', async () => {
    const path = await configFile('bad.yml', 'instances:\n  criticalWithinDays: soon\n');
    const result = await cli(['run', 'check-instances', '--config', path, '--publish']);
    expect(result.status).toBe(EXIT.config);
    expect(result.stderr).toContain(
      'instances.criticalWithinDays: Invalid input: expected number, received string',
    );
    expect(result.published).toEqual([]);
    const validate = await cli(['validate', '--config', path]);
    expect(validate.status).toBe(EXIT.config);
  });

  it('exits 78 for a missing file', async () => {
    const result = await cli(['validate', '--config', join(directory, 'nope.yml')]);
    expect(result.status).toBe(EXIT.config);
    expect(result.stderr).toContain('file not found');
  });

  it('validates a good file', async () => {
    const path = await configFile('good.yml', 'instances:\n  tags: {env: prod}\n');
    const result = await cli(['validate', '--config', path]);
    expect(result.status).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/is valid: 1 job section\(s\) configured \(check-instances\)/);
  });

  it('runs a job as a real process: digest on stdout, exit 2 for critical, --json prints the report', async () => {
    const path = await configFile('run.yml', 'region: eu-west-1\ninstances: {}\n');
    const env = {
      ...process.env,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_EC2: ec2.url,
    };
    const failure = await run('node', ['bin/watchkeeper.ts', 'run', 'check-instances', '--config', path], {
      env,
    }).catch((error: { code: number; stdout: string }) => error);
    expect('code' in failure && failure.code).toBe(EXIT.critical);
    expect(failure.stdout).toMatch(/^check-instances: CRITICAL\n1 critical, 1 ok/);
    expect(failure.stdout).toContain('api (i-0bbbbbbbbbbbbbbb1) fails its instance status check');

    const json = await run(
      'node',
      [
        'bin/watchkeeper.ts',
        'run',
        'check-instances',
        '--config',
        path,
        '--json',
        '--set',
        'instances.instanceIds=[i-0bbbbbbbbbbbbbbb2]',
      ],
      { env },
    );
    const report = JSON.parse(json.stdout) as { status: string; findings: Array<{ code: string }> };
    expect(report.status).toBe('ok');
  });

  it('--publish sends through the publisher and remembers what it sent', async () => {
    const path = await configFile(
      'publish.yml',
      'instances: {}\nnotify: {topicArn: "arn:aws:sns:eu-west-1:123456789012:t"}\n',
    );
    const env = {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_EC2: ec2.url,
    };
    const previous = { ...process.env };
    Object.assign(process.env, env);
    try {
      const first = await cli(['run', 'check-instances', '--config', path, '--publish'], env);
      expect(first.status).toBe(EXIT.critical);
      expect(first.published).toHaveLength(1);
      expect(first.published[0]?.Subject).toMatch(/^\[CRITICAL\] check-instances: i-0bbbbbbbbbbbbbbb1/);
      const second = await cli(['run', 'check-instances', '--config', path, '--publish'], env);
      expect(second.published).toHaveLength(0);
      expect(second.stderr).toContain('nothing new to publish');
    } finally {
      process.env = previous;
    }
  });
});
