import {
  CopyObjectCommand,
  GetObjectAclCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type BatchEvent,
  decodeTaskKey,
  handleBatchEvent,
} from '#functions/audit-content-types/batch-handler.ts';
import { createDeadline } from '#shared/deadline.ts';
import event from '../../events/audit-content-types-batch.json' with { type: 'json' };

// Mocked clients never send, but constructing one wants a region.
Object.assign(process.env, { AWS_REGION: 'eu-west-1' });
const s3 = mockClient(S3Client);
const client = new S3Client({});
const logger = { info: () => undefined, warn: () => undefined };

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

function invocation(
  tasks: Array<{ key: string; version?: string }>,
  userArguments: Record<string, string> = {},
): BatchEvent {
  return {
    invocationSchemaVersion: '2.0',
    invocationId: 'inv-1',
    job: { id: 'job-1', userArguments },
    tasks: tasks.map((task, index) => ({
      taskId: `t${index}`,
      s3Key: task.key,
      s3VersionId: task.version ?? null,
      s3Bucket: 'site',
    })),
  };
}

const run = (input: unknown) => handleBatchEvent(input, client, createDeadline(60_000), logger);

beforeEach(() => {
  s3.reset();
  s3.on(GetObjectAclCommand).resolves({ Owner: { ID: 'me' }, Grants: [] });
  s3.on(CopyObjectCommand).resolves({});
});

describe('S3 Batch Operations handler', () => {
  it('answers every task with schema 2.0 result codes', async () => {
    s3.on(HeadObjectCommand, { Key: 'ok.css' }).resolves({
      ContentType: 'text/css; charset=utf-8',
      ETag: '"1"',
    });
    s3.on(HeadObjectCommand, { Key: 'bad.css' }).resolves({
      ContentType: 'binary/octet-stream',
      ETag: '"2"',
    });
    s3.on(HeadObjectCommand, { Key: 'throttled.css' }).rejects(s3Error('SlowDown', 503));
    s3.on(HeadObjectCommand, { Key: 'denied.css' }).rejects(s3Error('AccessDenied', 403));
    s3.on(HeadObjectCommand, { Key: 'gone.css' }).rejects(s3Error('NotFound', 404));
    const response = await run(
      invocation([
        { key: 'ok.css' },
        { key: 'bad.css' },
        { key: 'throttled.css' },
        { key: 'denied.css' },
        { key: 'gone.css' },
      ]),
    );
    expect(response).toMatchObject({
      invocationSchemaVersion: '2.0',
      invocationId: 'inv-1',
      treatMissingKeysAs: 'PermanentFailure',
    });
    expect(response.results.map((result) => [result.taskId, result.resultCode])).toEqual([
      ['t0', 'Succeeded'],
      ['t1', 'Succeeded'],
      ['t2', 'TemporaryFailure'],
      ['t3', 'PermanentFailure'],
      ['t4', 'PermanentFailure'],
    ]);
    expect(response.results[0]?.resultString).toBe('ok');
    expect(response.results[1]?.resultString).toMatch(
      /^content-type\.missing: s3:\/\/site\/bad\.css has "binary\/octet-stream"/,
    );
    expect(response.results[4]?.resultString).toBe('object no longer exists');
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
  });

  it('fixes when the job says fix=true, on the version it was given', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentType: 'text/plain', ETag: '"3"', VersionId: 'v7' });
    const response = await run(invocation([{ key: 'js/app%2Bmain+v2.js', version: 'v7' }], { fix: 'true' }));
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toMatchObject({
      Key: 'js/app+main v2.js',
      VersionId: 'v7',
    });
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toMatchObject({
      CopySource: 'site/js/app%2Bmain%20v2.js?versionId=v7',
      ContentType: 'text/javascript',
      CopySourceIfMatch: '"3"',
    });
    expect(response.results[0]).toMatchObject({
      resultCode: 'Succeeded',
      resultString: expect.stringMatching(/^content-type\.fixed: /),
    });
  });

  it('fails every task permanently, saying why, when the user arguments are wrong', async () => {
    const response = await run(invocation([{ key: 'a.css' }], { fix: 'yes' }));
    expect(response.results[0]).toMatchObject({
      resultCode: 'PermanentFailure',
      resultString: expect.stringContaining('userArguments.fix'),
    });
  });

  it('accepts the schema 1.0 shape with a bucket ARN', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentType: 'image/svg+xml', ETag: '"4"' });
    const response = await run({
      invocationSchemaVersion: '1.0',
      invocationId: 'inv-2',
      job: { id: 'job-2' },
      tasks: [{ taskId: 'x', s3Key: 'icons/logo.svg', s3VersionId: null, s3BucketArn: 'arn:aws:s3:::site' }],
    });
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'site',
      Key: 'icons/logo.svg',
    });
    expect(response).toMatchObject({
      invocationSchemaVersion: '1.0',
      results: [{ taskId: 'x', resultCode: 'Succeeded' }],
    });
  });

  it('handles the sample event in events/', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentType: 'text/css', ETag: '"5"' });
    const response = await run(event);
    expect(response.results).toHaveLength(event.tasks.length);
  });

  it('rejects an event that is not a Batch Operations invocation', async () => {
    await expect(run({ Records: [] })).rejects.toThrow(/invocationSchemaVersion/);
  });

  it('decodes manifest keys like S3 Inventory writes them', () => {
    expect(decodeTaskKey('a+b%2Bc%25d%C3%BC.css')).toBe('a b+c%dü.css');
  });
});
