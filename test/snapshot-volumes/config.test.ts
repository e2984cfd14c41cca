import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { backupsSchema } from '#functions/check-backups/config.ts';
import { snapshotsSchema } from '#functions/snapshot-volumes/config.ts';
import { definition, settingsFor, snapshotPermissions } from '#functions/snapshot-volumes/job.ts';
import { explainAwsError, requireRegion } from '#shared/ec2/errors.ts';
import { testContext } from '../support/context.ts';

const issues = (input: unknown) => {
  const result = snapshotsSchema.safeParse(input);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('snapshots section', () => {
  it('accepts a partial section (an invocation override) and fills in the defaults', () => {
    const section = snapshotsSchema.parse({ instances: ['i-0123456789abcdef0'] });
    expect(section).toMatchObject({
      schedule: 'cron(0 3 * * ? *)',
      freeze: { mode: 'none' },
      onFreezeFailure: 'crash-consistent',
      includeBootVolume: false,
      createTimeoutSeconds: 10,
      copyTo: [],
    });
    expect(
      snapshotsSchema.parse({
        instances: [],
        freeze: { mode: 'fsfreeze', mountPoints: ['/data'] },
        instanceTags: { Backup: 'yes' },
      }).freeze,
    ).toEqual({
      mode: 'fsfreeze',
      mountPoints: ['/data'],
      watchdogSeconds: 30,
    });
  });

  it('names the field and what was expected', () => {
    expect(issues({ instances: ['web-1'] })).toEqual([
      'instances.0: expected an EC2 instance id such as "i-0123456789abcdef0"',
    ]);
    expect(issues({})).toEqual([
      'instances: expected "instances" or "instanceTags" to select at least one instance',
    ]);
    expect(issues({ instances: ['i-0123456789abcdef0'], retention: {} })).toEqual([
      'retention: expected "keep", "maxAgeDays" or both',
    ]);
    expect(issues({ instances: ['i-0123456789abcdef0'], tags: { 'watchkeeper:run-id': 'x' } })).toEqual([
      'tags.watchkeeper:run-id: tag keys starting with "aws:" or "watchkeeper:" are reserved',
    ]);
  });

  it.each([
    ['/', 'expected an absolute mount point'],
    ['/boot', 'the root and boot file systems are never frozen'],
    ['/data;reboot', 'expected an absolute mount point'],
    ['/data with space', 'expected an absolute mount point'],
    ['/data/../etc', 'expected a normalised path'],
    ['/data/', 'expected a normalised path'],
  ])('refuses the mount point %j', (mount, message) => {
    const found = issues({
      instances: ['i-0123456789abcdef0'],
      freeze: { mode: 'fsfreeze', mountPoints: [mount] },
    });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^freeze\.mountPoints\.0: /);
    expect(found[0]).toContain(message);
  });

  it('describes both forms of an instance entry in the JSON Schema for editors', () => {
    const schema = z.toJSONSchema(snapshotsSchema, { io: 'input', unrepresentable: 'any' }) as unknown as {
      properties: { instances: { items: { anyOf?: Array<{ type?: string }> } } };
    };
    expect(schema.properties.instances.items.anyOf?.map((option) => option.type)).toEqual([
      'string',
      'object',
    ]);
  });

  it('merges per-instance settings over the section', () => {
    const section = snapshotsSchema.parse({
      instances: [
        'i-0123456789abcdef0',
        { id: 'i-0123456789abcdef1', onFreezeFailure: 'skip', tags: { tier: 'db' } },
      ],
      freeze: { mode: 'fsfreeze', mountPoints: ['/data'] },
      tags: { team: 'ops' },
    });
    expect(settingsFor(section, 'i-0123456789abcdef1')).toMatchObject({
      onFreezeFailure: 'skip',
      tags: { team: 'ops', tier: 'db' },
      freeze: { mode: 'fsfreeze' },
    });
    expect(settingsFor(section, 'i-0123456789abcdef0').onFreezeFailure).toBe('crash-consistent');
  });
});

describe('permissions', () => {
  const actions = (input: unknown) =>
    snapshotPermissions(snapshotsSchema.parse(input))
      .flatMap((statement) => statement.actions)
      .sort();

  it('asks for the same actions whatever the section (what the bundle can send)', () => {
    const expected = [
      'ec2:CopySnapshot',
      'ec2:CreateSnapshots',
      'ec2:CreateTags',
      'ec2:DeleteSnapshot',
      'ec2:DescribeImages',
      'ec2:DescribeInstances',
      'ec2:DescribeSnapshots',
      'ssm:CancelCommand',
      'ssm:GetCommandInvocation',
      'ssm:SendCommand',
    ];
    expect(actions({ instances: ['i-0123456789abcdef0'] })).toEqual(expected);
    expect(
      actions({
        instances: ['i-0123456789abcdef0'],
        retention: { keep: 3 },
        copyTo: [{ region: 'eu-central-1' }],
      }),
    ).toEqual(expected);
  });

  it('narrows DeleteSnapshot to snapshots tagged as ours, and SendCommand to AWS-RunShellScript', () => {
    const statements = snapshotPermissions(
      snapshotsSchema.parse({
        instances: [
          { id: 'i-0123456789abcdef0', freeze: { mode: 'mysql', mountPoints: ['/var/lib/mysql'] } },
        ],
        retention: { keep: 7 },
        copyTo: [{ region: 'eu-central-1' }],
      }),
    );
    expect(statements.flatMap((statement) => statement.actions)).toEqual(
      expect.arrayContaining([
        'ssm:SendCommand',
        'ssm:GetCommandInvocation',
        'ssm:CancelCommand',
        'ec2:DeleteSnapshot',
        'ec2:DescribeImages',
        'ec2:CopySnapshot',
      ]),
    );
    const deletion = statements.find((statement) => statement.actions.includes('ec2:DeleteSnapshot'));
    expect(deletion?.conditions).toEqual({
      StringEquals: { 'aws:ResourceTag/watchkeeper:managed-by': 'watchkeeper' },
    });
    expect(
      statements.find((statement) => statement.actions.includes('ssm:SendCommand'))?.resources,
    ).toContain(`arn:aws:ssm:\${AWS::Region}::document/AWS-RunShellScript`);
  });
});

describe('running without AWS', () => {
  it('fails with a clear message when no region is configured', async () => {
    const ctx = testContext(definition, { instances: ['i-0123456789abcdef0'] });
    await expect(definition.run({ ...ctx, runtime: { inLambda: false, region: undefined } })).rejects.toThrow(
      'snapshot-volumes needs an AWS region: set AWS_REGION or "region" in watchkeeper.yml',
    );
    expect(requireRegion('x', undefined, 'eu-west-1')).toBe('eu-west-1');
  });

  it('says that credentials are missing, and how to provide them', () => {
    const sdkError = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(explainAwsError('Listing the instances to snapshot (DescribeInstances)', sdkError).message).toBe(
      'Listing the instances to snapshot (DescribeInstances) needs AWS credentials and none were found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): Could not load credentials from any providers',
    );
  });
});

describe('sample invocation events', () => {
  it('events/snapshot-volumes.json and events/check-backups.json are valid sections', async () => {
    const read = async (name: string) =>
      JSON.parse(await readFile(new URL(`../../events/${name}`, import.meta.url), 'utf8')) as unknown;
    const section = snapshotsSchema.parse(await read('snapshot-volumes.json'));
    expect(settingsFor(section, 'i-0123456789abcdef0').freeze.mode).toBe('mysql');
    expect(backupsSchema.parse(await read('check-backups.json')).maxAgeHours).toBe(26);
  });
});
