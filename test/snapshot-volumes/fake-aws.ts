/**
 * EC2 and SSM as the snapshot job sees them, on aws-sdk-client-mock (neither has a local
 * counterpart): instances with volumes, a snapshot store that honours filters, tags and
 * pagination, and SSM agents whose freeze/thaw behaviour each test scripts. Every call lands in
 * `events`, in order.
 */

import {
  CopySnapshotCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type Filter,
  type Snapshot,
  type Tag,
} from '@aws-sdk/client-ec2';
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  InvocationDoesNotExist,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { SnapshotDeps } from '#functions/snapshot-volumes/orchestrate.ts';

/** How a simulated agent answers one phase. */
export type AgentBehaviour =
  | 'ok'
  | 'hook-failed'
  | 'busy'
  | 'delivery-timeout'
  | 'execution-timeout'
  | 'hang'
  | 'watchdog-fired'
  /** SendCommand itself is refused (instance not managed by SSM). */
  | 'unmanaged'
  | { invisiblePolls?: number; throttledPolls?: number; next: AgentBehaviour };

/** A simulated instance. */
export interface FakeInstance {
  id: string;
  name?: string;
  state?: string;
  volumes: { volumeId: string; device: string }[];
  freeze?: AgentBehaviour;
  thaw?: AgentBehaviour;
}

/** A stored snapshot. */
export interface FakeSnapshot {
  id: string;
  volumeId: string;
  state: string;
  start: Date;
  tags: Record<string, string>;
  ownedByUs?: boolean;
}

/** A scripted failure of one EC2 call. */
export type CreateBehaviour = 'ok' | 'throw' | 'hang' | 'hang-but-created' | 'slow';

/** Builds the fakes; call `restore()` in afterEach. */
export function fakeAws(options: {
  instances: FakeInstance[];
  snapshots?: FakeSnapshot[];
  pageSize?: number;
}) {
  const ec2 = mockClient(EC2Client);
  const ssm = mockClient(SSMClient);
  const events: string[] = [];
  const snapshots: FakeSnapshot[] = [...(options.snapshots ?? [])];
  const images: { imageId: string; snapshotIds: string[] }[] = [];
  const createBehaviour = new Map<string, CreateBehaviour>();
  const deleteErrors = new Map<string, string>();
  const commands = new Map<
    string,
    { instanceId: string; phase: 'freeze' | 'thaw'; behaviour: AgentBehaviour; polls: number; runId: string }
  >();
  const pageSize = options.pageSize ?? 1000;
  let counter = 0;
  let time = 1_800_000_000_000;

  const deps = (invocationId = 'invocation-1'): SnapshotDeps => ({
    ec2: new EC2Client({ region: 'eu-west-1' }),
    ssm: new SSMClient({ region: 'eu-west-1' }),
    ec2In: (region) => new EC2Client({ region }),
    sleep: async (ms) => {
      time += ms;
    },
    clock: () => time,
    invocationId,
  });

  ec2.on(DescribeInstancesCommand).callsFake((input) => {
    events.push('ec2:DescribeInstances');
    const idFilter = (input.Filters as Filter[] | undefined)?.find(
      (filter) => filter.Name === 'instance-id',
    )?.Values;
    const tagFilters =
      (input.Filters as Filter[] | undefined)?.filter((filter) => filter.Name?.startsWith('tag:')) ?? [];
    const selected = options.instances.filter(
      (instance) =>
        (idFilter === undefined || idFilter.includes(instance.id)) &&
        (tagFilters.length === 0 ||
          (instance.name !== undefined &&
            tagFilters.every((f) => f.Name === 'tag:Name' && f.Values?.includes(instance.name ?? '')))),
    );
    return {
      Reservations: [
        {
          Instances: selected.map((instance) => ({
            InstanceId: instance.id,
            State: { Name: (instance.state ?? 'running') as 'running' },
            RootDeviceName: '/dev/xvda',
            Tags: instance.name === undefined ? [] : [{ Key: 'Name', Value: instance.name }],
            BlockDeviceMappings: instance.volumes.map((volume) => ({
              DeviceName: volume.device,
              Ebs: { VolumeId: volume.volumeId },
            })),
          })),
        },
      ],
    };
  });

  ec2.on(CreateSnapshotsCommand).callsFake(async (input) => {
    const instanceId = input.InstanceSpecification?.InstanceId ?? '';
    events.push(`ec2:CreateSnapshots ${instanceId}`);
    const behaviour = createBehaviour.get(instanceId) ?? 'ok';
    if (behaviour === 'throw') {
      throw Object.assign(new Error('Snapshot creation per volume rate exceeded'), {
        name: 'SnapshotCreationPerVolumeRateExceeded',
      });
    }
    const instance = options.instances.find((candidate) => candidate.id === instanceId);
    const excluded = new Set(input.InstanceSpecification?.ExcludeDataVolumeIds ?? []);
    const volumes = (instance?.volumes ?? []).filter(
      (volume) =>
        !excluded.has(volume.volumeId) &&
        !(input.InstanceSpecification?.ExcludeBootVolume && volume.device === '/dev/xvda'),
    );
    const tags = Object.fromEntries(
      (input.TagSpecifications?.[0]?.Tags ?? []).map((tag: Tag) => [tag.Key ?? '', tag.Value ?? '']),
    );
    const made = volumes.map((volume) => {
      counter += 1;
      const snapshot: FakeSnapshot = {
        id: `snap-${String(counter).padStart(8, '0')}`,
        volumeId: volume.volumeId,
        state: 'pending',
        start: new Date(time),
        tags: { ...tags },
      };
      snapshots.push(snapshot);
      return snapshot;
    });
    // Simulated time only: the call "took" 35 s, longer than the default 30 s watchdog.
    if (behaviour === 'slow') time += 35_000;
    if (behaviour === 'hang' || behaviour === 'hang-but-created') {
      if (behaviour === 'hang') snapshots.splice(snapshots.length - made.length, made.length);
      await new Promise(() => undefined);
    }
    return {
      Snapshots: made.map((snapshot) => ({
        SnapshotId: snapshot.id,
        VolumeId: snapshot.volumeId,
        State: 'pending' as const,
      })),
    };
  });

  ec2.on(DescribeSnapshotsCommand).callsFake((input) => {
    events.push('ec2:DescribeSnapshots');
    if (!input.OwnerIds?.includes('self')) throw new Error('test: DescribeSnapshots without OwnerIds self');
    const matching = snapshots.filter(
      (snapshot) => snapshot.ownedByUs !== false && matches(snapshot, input.Filters ?? []),
    );
    const start = Number(input.NextToken ?? 0);
    const page = matching.slice(start, start + pageSize);
    return {
      Snapshots: page.map(toSdkSnapshot),
      ...(start + pageSize < matching.length ? { NextToken: String(start + pageSize) } : {}),
    };
  });

  ec2.on(CreateTagsCommand).callsFake((input) => {
    events.push(`ec2:CreateTags ${(input.Resources ?? []).join(',')}`);
    for (const id of input.Resources ?? []) {
      const snapshot = snapshots.find((candidate) => candidate.id === id);
      for (const tag of input.Tags ?? []) if (snapshot && tag.Key) snapshot.tags[tag.Key] = tag.Value ?? '';
    }
    return {};
  });

  ec2.on(DescribeImagesCommand).callsFake((input) => {
    events.push('ec2:DescribeImages');
    const wanted = new Set(
      (input.Filters as Filter[] | undefined)?.find(
        (filter) => filter.Name === 'block-device-mapping.snapshot-id',
      )?.Values ?? [],
    );
    return {
      Images: images
        .filter((image) => image.snapshotIds.some((id) => wanted.has(id)))
        .map((image) => ({
          ImageId: image.imageId,
          BlockDeviceMappings: image.snapshotIds.map((id) => ({ Ebs: { SnapshotId: id } })),
        })),
    };
  });

  ec2.on(DeleteSnapshotCommand).callsFake((input) => {
    events.push(`ec2:DeleteSnapshot ${input.SnapshotId}`);
    const error = deleteErrors.get(input.SnapshotId ?? '');
    if (error) throw Object.assign(new Error(`The snapshot ${input.SnapshotId} is in use`), { name: error });
    const at = snapshots.findIndex((snapshot) => snapshot.id === input.SnapshotId);
    if (at >= 0) snapshots.splice(at, 1);
    return {};
  });

  ec2.on(CopySnapshotCommand).callsFake((input) => {
    events.push(`ec2:CopySnapshot ${input.SourceSnapshotId}`);
    counter += 1;
    const tags = Object.fromEntries(
      (input.TagSpecifications?.[0]?.Tags ?? []).map((tag: Tag) => [tag.Key ?? '', tag.Value ?? '']),
    );
    const id = `snap-copy${String(counter).padStart(4, '0')}`;
    snapshots.push({ id, volumeId: 'vol-ffffffff', state: 'pending', start: new Date(time), tags });
    return { SnapshotId: id };
  });

  ssm.on(SendCommandCommand).callsFake((input) => {
    const instanceId = input.InstanceIds?.[0] ?? '';
    const phase = input.Comment?.startsWith('watchkeeper freeze') ? 'freeze' : 'thaw';
    events.push(`ssm:SendCommand ${phase} ${instanceId}`);
    const instance = options.instances.find((candidate) => candidate.id === instanceId);
    if ((phase === 'freeze' ? instance?.freeze : instance?.thaw) === 'unmanaged') {
      throw Object.assign(new Error('Instances [[i-...]] not in a valid state for account'), {
        name: 'InvalidInstanceId',
      });
    }
    counter += 1;
    const commandId = `cmd-${counter}`;
    const commandsText = (input.Parameters?.['commands'] ?? []).join('\n');
    const runId = /WK_RUN_ID='([^']*)'/.exec(commandsText)?.[1] ?? '';
    commands.set(commandId, {
      instanceId,
      phase,
      behaviour: (phase === 'freeze' ? instance?.freeze : instance?.thaw) ?? 'ok',
      polls: 0,
      runId,
    });
    return { Command: { CommandId: commandId } };
  });

  ssm.on(GetCommandInvocationCommand).callsFake((input) => {
    const command = commands.get(input.CommandId ?? '');
    if (!command) throw new Error(`test: unknown command ${input.CommandId}`);
    command.polls += 1;
    let behaviour = command.behaviour;
    if (typeof behaviour === 'object') {
      const invisible = behaviour.invisiblePolls ?? 0;
      const throttled = behaviour.throttledPolls ?? 0;
      if (command.polls <= invisible) {
        throw new InvocationDoesNotExist({ message: 'invocation does not exist', $metadata: {} });
      }
      if (command.polls <= invisible + throttled)
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      behaviour = behaviour.next;
    }
    const line = (fields: string) => `WATCHKEEPER phase=${command.phase} run=${command.runId} ${fields}\n`;
    const epoch = Math.floor(time / 1000);
    switch (behaviour) {
      case 'ok':
        return {
          Status: 'Success',
          StatusDetails: 'Success',
          ResponseCode: 0,
          StandardOutputContent:
            command.phase === 'freeze'
              ? line(`status=frozen reused=0 mounts=/data mysql=none watchdogSeconds=30 frozenAt=${epoch}`)
              : line('status=thawed thawed=/data alreadyThawed= watchdog=disarmed mysql=none'),
        };
      case 'watchdog-fired':
        return {
          Status: 'Success',
          StatusDetails: 'Success',
          ResponseCode: 0,
          StandardOutputContent: line(
            `status=thawed thawed= alreadyThawed=/data watchdog=fired firedAt=${epoch} mysql=none`,
          ),
        };
      case 'hook-failed':
        return {
          Status: 'Failed',
          StatusDetails: 'Failed',
          ResponseCode: 1,
          StandardOutputContent: line(
            command.phase === 'freeze'
              ? 'status=failed reason=freeze-error mount=/data'
              : 'status=failed reason=thaw-error mounts=/data watchdogAt=1',
          ),
        };
      case 'busy':
        return {
          Status: 'Failed',
          StatusDetails: 'Failed',
          ResponseCode: 3,
          StandardOutputContent: line('status=busy heldBy=other-run'),
        };
      case 'delivery-timeout':
        return {
          Status: 'TimedOut',
          StatusDetails: 'Delivery Timed Out',
          ResponseCode: -1,
          StandardOutputContent: '',
        };
      case 'execution-timeout':
        return {
          Status: 'TimedOut',
          StatusDetails: 'Execution Timed Out',
          ResponseCode: -1,
          StandardOutputContent: '',
        };
      case 'hang':
        return { Status: 'InProgress', StatusDetails: 'InProgress', ResponseCode: -1 };
    }
    throw new Error(`test: unknown agent behaviour ${JSON.stringify(behaviour)}`);
  });

  ssm.on(CancelCommandCommand).callsFake((input) => {
    events.push(
      `ssm:CancelCommand ${commands.get(input.CommandId ?? '')?.phase ?? '?'} ${input.InstanceIds?.[0] ?? ''}`,
    );
    return {};
  });

  return {
    ec2,
    ssm,
    events,
    snapshots,
    images,
    createBehaviour,
    deleteErrors,
    deps,
    /** The fake clock (ms), advanced by `sleep`. */
    advance: (ms: number) => {
      time += ms;
    },
    now: () => new Date(time),
    restore: () => {
      ec2.restore();
      ssm.restore();
    },
  };
}

function matches(snapshot: FakeSnapshot, filters: readonly Filter[]): boolean {
  return filters.every((filter) => {
    const values = filter.Values ?? [];
    if (filter.Name === 'volume-id') return values.includes(snapshot.volumeId);
    if (filter.Name === 'status') return values.includes(snapshot.state);
    if (filter.Name?.startsWith('tag:')) {
      const value = snapshot.tags[filter.Name.slice(4)];
      return value !== undefined && values.includes(value);
    }
    throw new Error(`test: unsupported filter ${filter.Name}`);
  });
}

function toSdkSnapshot(snapshot: FakeSnapshot): Snapshot {
  return {
    SnapshotId: snapshot.id,
    VolumeId: snapshot.volumeId,
    State: snapshot.state as 'completed',
    StartTime: snapshot.start,
    Tags: Object.entries(snapshot.tags).map(([Key, Value]) => ({ Key, Value })),
  };
}
