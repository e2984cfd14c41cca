import { existsSync } from 'node:fs';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { definition } from '#functions/audit-content-types/job.ts';
import { DEMO_BUCKET, demoPart, startLocalS3 } from '#sandbox/audit-content-types.ts';

describe('audit-content-types demo part', () => {
  it('serves a seeded bucket, hands over valid sections and cleans up after itself', async () => {
    const started = await demoPart.start({ resolver: '127.0.0.1:53' });
    const {
      AWS_ENDPOINT_URL_S3: endpoint = '',
      AWS_ACCESS_KEY_ID: accessKeyId = '',
      AWS_SECRET_ACCESS_KEY: secretAccessKey = '',
    } = started.env ?? {};
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(definition.schema.parse(started.section)).toMatchObject({ fix: false, sniff: true });
    expect(definition.schema.parse(started.followUp?.section)).toMatchObject({ fix: true });
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
    });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: DEMO_BUCKET }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual(
      expect.arrayContaining(['site/css/main.css', 'site/js/app.js', 'site/img/logo.png']),
    );
    client.destroy();
    await started.close();
    await expect(fetch(endpoint)).rejects.toThrow();
  });

  it('removes its object directory and closes every port', async () => {
    const local = await startLocalS3({ buckets: ['b'], front: true, latencyMs: 5 });
    expect(existsSync(local.directory)).toBe(true);
    await local.close();
    expect(existsSync(local.directory)).toBe(false);
    for (const endpoint of [local.endpoint, local.directEndpoint, local.latencyEndpoint ?? '']) {
      await expect(fetch(endpoint)).rejects.toThrow();
    }
  });
});
