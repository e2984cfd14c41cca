import { CreateSnapshotsCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { definition, runSnapshots } from '#functions/snapshot-volumes/job.ts';
import { LOCK_PARTITION } from '#functions/snapshot-volumes/orchestrate.ts';
import type { Finding } from '#shared/findings.ts';
import { MemoryStateStore } from '#shared/state/memory.ts';
import { testContext } from '../support/context.ts';
import { type FakeInstance, type FakeSnapshot, fakeAws } from './fake-aws.ts';

const DB: FakeInstance = {
  id: 'i-0000000000000000a',
  name: 'db-1',
  volumes: [
    { volumeId: 'vol-000000000000000a0', device: '/dev/xvda' },
    { volumeId: 'vol-000000000000000a1', device: '/dev/xvdf' },
    { volumeId: 'vol-000000000000000a2', device: '/dev/xvdg' },
  ],
};
const WEB: FakeInstance = {
  id: 'i-0000000000000000b',
  name: 'web-1',
  volumes: [
    { volumeId: 'vol-000000000000000b0', device: '/dev/xvda' },
    { volumeId: 'vol-000000000000000b1', device: '/dev/xvdf' },
  ],
};
const FSFREEZE = { mode: 'fsfreeze', mountPoints: ['/data'], watchdogSeconds: 30 };

let aws: ReturnType<typeof fakeAws> | undefined;
afterEach(() => aws?.restore());

function setup(instances: FakeInstance[], snapshots: FakeSnapshot[] = [], pageSize?: number) {
  aws = fakeAws(pageSize === undefined ? { instances, snapshots } : { instances, snapshots, pageSize });
  return aws;
}

function context(
  section: Record<string, unknown>,
  options: { runId?: string; state?: MemoryStateStore } = {},
) {
  const now = aws?.now() ?? new Date();
  return testContext(definition, section, {
    now,
    runId: options.runId ?? 'evt-1',
    ...(options.state ? { state: options.state } : {}),
  });
}

const codes = (findings: readonly Finding[]) =>
  findings.map((finding) => `${finding.target} ${finding.code} ${finding.severity}`).sort();
const only = (findings: readonly Finding[], code: string) => {
  const found = findings.filter((finding) => finding.code === code);
  expect(found, `one ${code} among ${JSON.stringify(codes(findings))}`).toHaveLength(1);
  return found[0] as Finding;
};
const tagsOf = (fake: ReturnType<typeof fakeAws>, volumeId: string) =>
  fake.snapshots.find((snapshot) => snapshot.volumeId === volumeId)?.tags;

describe('snapshot-volumes orchestration', () => {
  it('freezes, makes one CreateSnapshots call, then thaws, and tags the set', async () => {
    const fake = setup([DB]);
    const outcome = await runSnapshots(
      context({ instances: [DB.id], freeze: FSFREEZE, tags: { team: 'data' } }),
      fake.deps(),
    );
    const order = fake.events.filter((event) => /SendCommand|CreateSnapshots/.test(event));
    expect(order).toEqual([
      `ssm:SendCommand freeze ${DB.id}`,
      `ec2:CreateSnapshots ${DB.id}`,
      `ssm:SendCommand thaw ${DB.id}`,
    ]);
    const created = only(outcome.findings, 'snapshot.created');
    expect(created.severity).toBe('ok');
    expect(created.message).toMatch(
      /^Snapshotted 2 volumes of db-1 \(i-0+a\), application-consistent, frozen for \d+ ms\.$/,
    );
    expect(created.data?.['freezeWindowMs']).toEqual(expect.any(Number));
    // The boot volume is excluded by default; the data volumes carry every tag.
    expect(fake.snapshots.map((snapshot) => snapshot.volumeId)).toEqual([
      'vol-000000000000000a1',
      'vol-000000000000000a2',
    ]);
    expect(tagsOf(fake, 'vol-000000000000000a1')).toEqual({
      team: 'data',
      'watchkeeper:managed-by': 'watchkeeper',
      'watchkeeper:run-id': 'evt-1',
      'watchkeeper:instance-id': DB.id,
      'watchkeeper:consistency': 'application',
      'watchkeeper:freeze-mode': 'fsfreeze',
      'watchkeeper:devices': 'vol-000000000000000a1=/dev/xvdf,vol-000000000000000a2=/dev/xvdg',
    });
    const call = fake.ec2.commandCalls(CreateSnapshotsCommand)[0]?.args[0].input;
    expect(call).toMatchObject({
      CopyTagsFromSource: 'volume',
      InstanceSpecification: { InstanceId: DB.id, ExcludeBootVolume: true },
    });
    expect(outcome.stats).toMatchObject({ instances: 1, snapshotsCreated: 2 });
  });

  it('thaws after CreateSnapshots even when the call throws, and reports the failure', async () => {
    const fake = setup([DB]);
    fake.createBehaviour.set(DB.id, 'throw');
    const outcome = await runSnapshots(
      context({ instances: [DB.id], freeze: FSFREEZE, retention: { keep: 1 } }),
      fake.deps(),
    );
    expect(fake.events.filter((event) => /SendCommand|CreateSnapshots/.test(event))).toEqual([
      `ssm:SendCommand freeze ${DB.id}`,
      `ec2:CreateSnapshots ${DB.id}`,
      `ssm:SendCommand thaw ${DB.id}`,
    ]);
    const failed = only(outcome.findings, 'snapshot.create-failed');
    expect(failed.severity).toBe('critical');
    expect(failed.message).toBe(
      'Snapshotting db-1 (i-0000000000000000a) failed: Snapshot creation per volume rate exceeded.',
    );
    expect(failed.data?.['thawed']).toBe(true);
    // No retention after a failed snapshot.
    expect(fake.events.some((event) => event.startsWith('ec2:DeleteSnapshot'))).toBe(false);
  });

  it('thaws when CreateSnapshots does not answer in time, and finds a set created meanwhile by its run tag', async () => {
    const fake = setup([DB, WEB]);
    fake.createBehaviour.set(DB.id, 'hang');
    fake.createBehaviour.set(WEB.id, 'hang-but-created');
    const outcome = await runSnapshots(
      context({ instances: [DB.id, WEB.id], freeze: FSFREEZE, createTimeoutSeconds: 1 }),
      fake.deps(),
    );
    for (const id of [DB.id, WEB.id]) {
      const mine = fake.events.filter(
        (event) => event.endsWith(id) && /SendCommand|CreateSnapshots/.test(event),
      );
      expect(mine).toEqual([
        `ssm:SendCommand freeze ${id}`,
        `ec2:CreateSnapshots ${id}`,
        `ssm:SendCommand thaw ${id}`,
      ]);
    }
    expect(codes(outcome.findings)).toEqual([
      `${DB.id} snapshot.create-failed critical`,
      `${WEB.id} snapshot.created ok`,
    ]);
    expect(only(outcome.findings, 'snapshot.create-failed').message).toMatch(/no answer within 1000 ms/);
  });

  it('waits out InvocationDoesNotExist and throttling right after SendCommand', async () => {
    const fake = setup([
      {
        ...DB,
        freeze: { invisiblePolls: 3, throttledPolls: 2, next: 'ok' },
        thaw: { invisiblePolls: 1, next: 'ok' },
      },
    ]);
    const outcome = await runSnapshots(context({ instances: [DB.id], freeze: FSFREEZE }), fake.deps());
    expect(only(outcome.findings, 'snapshot.created').data?.['consistency']).toBe('application');
  });

  it('falls back to a crash-consistent snapshot when the freeze is not delivered, and says why', async () => {
    const fake = setup([{ ...DB, freeze: 'delivery-timeout' }]);
    const outcome = await runSnapshots(context({ instances: [DB.id], freeze: FSFREEZE }), fake.deps());
    const failed = only(outcome.findings, 'snapshot.freeze-failed');
    expect(failed.severity).toBe('warning');
    expect(failed.message).toBe(
      'Freezing db-1 (i-0000000000000000a) failed (the SSM agent did not receive the command (is it running, and the instance managed?)); taking a crash-consistent snapshot instead.',
    );
    // Thawed (in case the hook did half its work) before the snapshot, not after.
    expect(fake.events.filter((event) => /SendCommand|CreateSnapshots/.test(event))).toEqual([
      `ssm:SendCommand freeze ${DB.id}`,
      `ssm:SendCommand thaw ${DB.id}`,
      `ec2:CreateSnapshots ${DB.id}`,
    ]);
    expect(only(outcome.findings, 'snapshot.created').severity).toBe('info');
    expect(tagsOf(fake, 'vol-000000000000000a1')?.['watchkeeper:consistency']).toBe('crash');
  });

  it('makes no snapshot when the freeze fails and onFreezeFailure is skip', async () => {
    const fake = setup([{ ...DB, freeze: 'execution-timeout' }]);
    const outcome = await runSnapshots(
      context({ instances: [DB.id], freeze: FSFREEZE, onFreezeFailure: 'skip' }),
      fake.deps(),
    );
    const failed = only(outcome.findings, 'snapshot.freeze-failed');
    expect(failed.severity).toBe('critical');
    expect(failed.message).toContain('ran past its execution timeout');
    expect(failed.message).toContain('no snapshot was made');
    expect(fake.events).toContain(`ssm:SendCommand thaw ${DB.id}`);
    expect(fake.events.some((event) => event.startsWith('ec2:CreateSnapshots'))).toBe(false);
  });

  it('cancels a freeze that never reports, thaws, and does not wait for it forever', async () => {
    const fake = setup([{ ...DB, freeze: 'hang' }]);
    const outcome = await runSnapshots(
      context({ instances: [DB.id], freeze: FSFREEZE, freezeWaitSeconds: 5, onFreezeFailure: 'skip' }),
      fake.deps(),
    );
    expect(only(outcome.findings, 'snapshot.freeze-failed').message).toContain(
      'no result within 5 s (last status InProgress)',
    );
    expect(fake.events).toEqual(
      expect.arrayContaining([`ssm:CancelCommand freeze ${DB.id}`, `ssm:SendCommand thaw ${DB.id}`]),
    );
    expect(fake.events.indexOf(`ssm:CancelCommand freeze ${DB.id}`)).toBeLessThan(
      fake.events.indexOf(`ssm:SendCommand thaw ${DB.id}`),
    );
  });

  it('reports a busy hook (another run holds the freeze on the instance) without calling our thaw failed', async () => {
    const fake = setup([{ ...DB, freeze: 'busy', thaw: 'busy' }]);
    const outcome = await runSnapshots(context({ instances: [DB.id], freeze: FSFREEZE }), fake.deps());
    expect(only(outcome.findings, 'snapshot.freeze-failed').message).toContain(
      'another run holds the freeze on the instance',
    );
    expect(outcome.findings.some((finding) => finding.code === 'snapshot.thaw-failed')).toBe(false);
  });

  it('does not thaw a freeze that SSM refused to send (instance not managed)', async () => {
    const fake = setup([{ ...DB, freeze: 'unmanaged' }]);
    const outcome = await runSnapshots(context({ instances: [DB.id], freeze: FSFREEZE }), fake.deps());
    expect(only(outcome.findings, 'snapshot.freeze-failed').message).toContain('not in a valid state');
    expect(fake.events.filter((event) => event.startsWith('ssm:'))).toEqual([
      `ssm:SendCommand freeze ${DB.id}`,
    ]);
    expect(outcome.findings.some((finding) => finding.code === 'snapshot.thaw-failed')).toBe(false);
    expect(only(outcome.findings, 'snapshot.created').data?.['consistency']).toBe('crash');
  });

  it('reports a failed thaw as critical and names when the watchdog thaws', async () => {
    const fake = setup([{ ...DB, thaw: 'hook-failed' }]);
    const outcome = await runSnapshots(context({ instances: [DB.id], freeze: FSFREEZE }), fake.deps());
    const thaw = only(outcome.findings, 'snapshot.thaw-failed');
    expect(thaw.severity).toBe('critical');
    expect(thaw.message).toMatch(
      /^Thawing db-1 \(i-0+a\) failed \(hook said failed \(thaw-error\)\); its watchdog thaws it by \d{4}-\d\d-\d\dT[\d:.]+Z at the latest/,
    );
    const frozenAt = Math.floor(fake.now().getTime() / 1000);
    expect(Date.parse(String(thaw.data?.['watchdogThawsBy']))).toBeLessThanOrEqual((frozenAt + 30) * 1000);
    // The snapshot itself was made.
    expect(only(outcome.findings, 'snapshot.created').data?.['snapshotIds']).toHaveLength(2);
  });

  it('does not call a snapshot consistent when the freeze is confirmed too close to its watchdog', async () => {
    const fake = setup([DB]);
    const deps = fake.deps();
    // Every poll "takes" 200 times longer: the freeze is confirmed after ~50 s, past the 30 s watchdog.
    const slow = { ...deps, sleep: async (ms: number) => fake.advance(ms * 200) };
    const outcome = await runSnapshots(context({ instances: [DB.id], freeze: FSFREEZE }), slow);
    expect(only(outcome.findings, 'snapshot.freeze-failed').data?.['reason']).toBe('watchdog-too-close');
    expect(only(outcome.findings, 'snapshot.created').data?.['consistency']).toBe('crash');
    expect(tagsOf(fake, 'vol-000000000000000a1')?.['watchkeeper:consistency']).toBe('crash');
  });

  it('re-tags the set crash-consistent when the watchdog thawed before CreateSnapshots returned', async () => {
    const fake = setup([{ ...DB, thaw: 'watchdog-fired' }]);
    fake.createBehaviour.set(DB.id, 'slow');
    const outcome = await runSnapshots(
      context({ instances: [DB.id], freeze: FSFREEZE, createTimeoutSeconds: 60 }),
      fake.deps(),
    );
    expect(only(outcome.findings, 'snapshot.created').data?.['consistency']).toBe('crash');
    expect(only(outcome.findings, 'snapshot.thaw-failed')).toMatchObject({ severity: 'warning' });
    expect(tagsOf(fake, 'vol-000000000000000a1')?.['watchkeeper:consistency']).toBe('crash');
  });

  it('keeps going for other instances when one fails', async () => {
    const fake = setup([{ ...DB, freeze: 'hook-failed' }, WEB]);
    fake.createBehaviour.set(DB.id, 'throw');
    const outcome = await runSnapshots(
      context({ instances: [DB.id, WEB.id], freeze: FSFREEZE }),
      fake.deps(),
    );
    expect(codes(outcome.findings)).toEqual([
      `${DB.id} snapshot.create-failed critical`,
      `${DB.id} snapshot.freeze-failed warning`,
      `${WEB.id} snapshot.created ok`,
    ]);
  });

  it('skips an instance whose lock another run holds, without freezing or snapshotting it', async () => {
    const fake = setup([DB]);
    const state = new MemoryStateStore(() => fake.now().getTime());
    await state.acquireLock(LOCK_PARTITION, DB.id, 'evt-0#other', 600);
    const outcome = await runSnapshots(
      context({ instances: [DB.id], freeze: FSFREEZE }, { state }),
      fake.deps(),
    );
    const skipped = only(outcome.findings, 'snapshot.skipped-locked');
    expect(skipped.severity).toBe('info');
    expect(skipped.message).toMatch(/^Skipped db-1 \(i-0+a\): run evt-0 holds its snapshot lock until /);
    expect(fake.events.filter((event) => /SendCommand|CreateSnapshots/.test(event))).toEqual([]);
  });

  it('tells a duplicate invocation of the same run apart while the first still holds the lock', async () => {
    const fake = setup([DB]);
    const state = new MemoryStateStore(() => fake.now().getTime());
    await state.acquireLock(LOCK_PARTITION, DB.id, 'evt-1#first-invocation', 600);
    const outcome = await runSnapshots(
      context({ instances: [DB.id] }, { state }),
      fake.deps('second-invocation'),
    );
    expect(only(outcome.findings, 'snapshot.skipped-locked').message).toContain(
      'a duplicate invocation of this run',
    );
  });

  it('neither freezes nor snapshots twice when the same run is retried', async () => {
    const fake = setup([DB]);
    const state = new MemoryStateStore(() => fake.now().getTime());
    await runSnapshots(context({ instances: [DB.id], freeze: FSFREEZE }, { state }), fake.deps('first'));
    fake.events.length = 0;
    const retry = await runSnapshots(
      context({ instances: [DB.id], freeze: FSFREEZE }, { state }),
      fake.deps('retry'),
    );
    expect(fake.events.filter((event) => /SendCommand|CreateSnapshots/.test(event))).toEqual([]);
    expect(only(retry.findings, 'snapshot.created').data).toMatchObject({
      reused: true,
      consistency: 'application',
    });
    // Even with the run record lost, the run-id tag on the snapshots prevents a second set.
    const amnesia = await runSnapshots(context({ instances: [DB.id], freeze: FSFREEZE }), fake.deps('third'));
    expect(only(amnesia.findings, 'snapshot.created').data?.['reused']).toBe(true);
    expect(fake.snapshots).toHaveLength(2);
    expect(await state.get(LOCK_PARTITION, DB.id)).toBeUndefined();
  });

  it('snapshots a stopped instance without trying to freeze it', async () => {
    const fake = setup([{ ...DB, state: 'stopped' }]);
    const outcome = await runSnapshots(context({ instances: [DB.id], freeze: FSFREEZE }), fake.deps());
    expect(fake.events.some((event) => event.startsWith('ssm:'))).toBe(false);
    expect(only(outcome.findings, 'snapshot.created').data).toMatchObject({
      consistency: 'application',
      note: 'stopped',
    });
  });

  it('reports a configured instance that does not exist, and one with nothing to snapshot', async () => {
    const fake = setup([
      { id: 'i-0000000000000000c', volumes: [{ volumeId: 'vol-000000000000000c0', device: '/dev/xvda' }] },
    ]);
    const outcome = await runSnapshots(
      context({ instances: ['i-0000000000000000c', 'i-0000000000000000d'] }),
      fake.deps(),
    );
    expect(codes(outcome.findings)).toEqual([
      'i-0000000000000000c snapshot.no-volumes warning',
      'i-0000000000000000d snapshot.create-failed critical',
    ]);
    expect(only(outcome.findings, 'snapshot.create-failed').message).toBe(
      'Instance i-0000000000000000d was not found (or is terminated); no snapshot was made.',
    );
  });

  it('applies per-instance settings: boot volume included, a data volume excluded, no freeze', async () => {
    const fake = setup([DB]);
    await runSnapshots(
      context({
        instances: [
          {
            id: DB.id,
            includeBootVolume: true,
            excludeVolumeIds: ['vol-000000000000000a2'],
            freeze: { mode: 'none' },
          },
        ],
        freeze: FSFREEZE,
      }),
      fake.deps(),
    );
    expect(fake.snapshots.map((snapshot) => snapshot.volumeId)).toEqual([
      'vol-000000000000000a0',
      'vol-000000000000000a1',
    ]);
    expect(fake.events.some((event) => event.startsWith('ssm:'))).toBe(false);
    expect(tagsOf(fake, 'vol-000000000000000a0')?.['watchkeeper:consistency']).toBe('crash');
  });

  it('maps volumes to devices in one tag up to 8 volumes, and per snapshot beyond', async () => {
    const volumes = (count: number, prefix: string) =>
      Array.from({ length: count }, (_, index) => ({
        volumeId: `vol-${prefix}${String(index).padStart(16, '0')}`,
        device: `/dev/xvd${String.fromCharCode(102 + index)}`,
      }));
    const eight: FakeInstance = { id: 'i-00000000000000008', volumes: volumes(8, '8') };
    const ten: FakeInstance = { id: 'i-00000000000000010', volumes: volumes(10, '9') };
    const fake = setup([eight, ten]);
    await runSnapshots(context({ instances: [eight.id, ten.id] }), fake.deps());
    const ofEight = fake.snapshots.filter(
      (snapshot) => snapshot.tags['watchkeeper:instance-id'] === eight.id,
    );
    expect(ofEight).toHaveLength(8);
    expect(ofEight[0]?.tags['watchkeeper:devices']?.split(',')).toHaveLength(8);
    expect(fake.events.filter((event) => event.startsWith(`ec2:CreateTags`))).toHaveLength(10);
    for (const snapshot of fake.snapshots.filter(
      (candidate) => candidate.tags['watchkeeper:instance-id'] === ten.id,
    )) {
      expect(snapshot.tags['watchkeeper:devices']).toBeUndefined();
      expect(snapshot.tags['watchkeeper:device']).toBe(
        ten.volumes.find((volume) => volume.volumeId === snapshot.volumeId)?.device,
      );
    }
  });

  it('selects instances by tag as well as by id', async () => {
    const fake = setup([DB, WEB]);
    const outcome = await runSnapshots(context({ instanceTags: { Name: 'web-1' } }), fake.deps());
    expect(codes(outcome.findings)).toEqual([`${WEB.id} snapshot.created ok`]);
  });
});
