/**
 * Freeze window and API calls per instance of snapshot-volumes (freeze, ONE CreateSnapshots, thaw)
 * against the original cron script's approach made consistent across volumes (freeze everything,
 * CreateSnapshot volume by volume, thaw), for 1, 4 and 8 volumes, in one run, with simulated
 * EC2/SSM latencies (aws-sdk-client-mock answering after a delay; no AWS account involved).
 * Both sides use the same SSM runner and the same simulated agent; only the snapshot step differs.
 *
 *   node bench/snapshots.ts [--runs N]
 */
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  GetCommandInvocationCommand,
  InvocationDoesNotExist,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { snapshotsSchema } from '#functions/snapshot-volumes/config.ts';
import { freezeCommands, thawCommands } from '#functions/snapshot-volumes/hook.ts';
import { runSnapshots } from '#functions/snapshot-volumes/job.ts';
import { runShellCommand } from '#functions/snapshot-volumes/ssm.ts';
import { localJobContext } from '#sandbox/job-context.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);

/** Simulated latencies (ms): API round trips, and the SSM agent's pick-up and script run times. */
const LATENCY = {
  describeInstances: 120,
  describeSnapshots: 120,
  createSnapshots: 350,
  createSnapshot: 250,
  createTags: 80,
  sendCommand: 100,
  getCommandInvocation: 60,
  invisibleAfterSend: 400,
  agentPickUp: 700,
  freezeScript: 150,
  thawScript: 50,
} as const;

const INSTANCE = 'i-0123456789abcdef0';
const FREEZE = { mode: 'fsfreeze' as const, mountPoints: ['/data'], watchdogSeconds: 30 };

interface Measurement {
  windowMs: number;
  calls: number;
  callsInWindow: number;
}

/** One simulated instance with `volumes` data volumes; returns the measurement of `approach`. */
async function measure(
  volumes: number,
  approach: (ec2: EC2Client, ssm: SSMClient) => Promise<void>,
): Promise<Measurement> {
  const ec2Mock = mockClient(EC2Client);
  const ssmMock = mockClient(SSMClient);
  const calls: number[] = [];
  let frozenAt = Number.NaN;
  let thawedAt = Number.NaN;
  const commands = new Map<string, { phase: 'freeze' | 'thaw'; sentAt: number }>();
  const api = async <T>(ms: number, answer: () => T): Promise<T> => {
    calls.push(performance.now());
    await sleep(ms);
    return answer();
  };
  const volumeIds = Array.from({ length: volumes }, (_, index) => `vol-${String(index).padStart(17, '0')}`);
  ec2Mock.on(DescribeInstancesCommand).callsFake(() =>
    api(LATENCY.describeInstances, () => ({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: INSTANCE,
              State: { Name: 'running' as const },
              RootDeviceName: '/dev/xvda',
              BlockDeviceMappings: volumeIds.map((id, index) => ({
                DeviceName: `/dev/xvd${String.fromCharCode(102 + index)}`,
                Ebs: { VolumeId: id },
              })),
            },
          ],
        },
      ],
    })),
  );
  ec2Mock
    .on(DescribeSnapshotsCommand)
    .callsFake(() => api(LATENCY.describeSnapshots, () => ({ Snapshots: [] })));
  ec2Mock.on(CreateTagsCommand).callsFake(() => api(LATENCY.createTags, () => ({})));
  ec2Mock.on(CreateSnapshotsCommand).callsFake(() =>
    api(LATENCY.createSnapshots, () => ({
      Snapshots: volumeIds.map((id, index) => ({ SnapshotId: `snap-${index}`, VolumeId: id })),
    })),
  );
  ec2Mock
    .on(CreateSnapshotCommand)
    .callsFake((input) => api(LATENCY.createSnapshot, () => ({ SnapshotId: `snap-${input.VolumeId}` })));
  ssmMock.on(SendCommandCommand).callsFake((input) =>
    api(LATENCY.sendCommand, () => {
      const phase = input.Comment?.startsWith('watchkeeper freeze') ? 'freeze' : 'thaw';
      const sentAt = performance.now();
      const commandId = `cmd-${commands.size}`;
      commands.set(commandId, { phase, sentAt });
      // The agent acts on its own clock, whether or not anyone polls.
      const runsFor = phase === 'freeze' ? LATENCY.freezeScript : LATENCY.thawScript;
      setTimeout(() => {
        if (phase === 'freeze') frozenAt = performance.now();
        else thawedAt = performance.now();
      }, LATENCY.agentPickUp + runsFor);
      return { Command: { CommandId: commandId } };
    }),
  );
  ssmMock.on(GetCommandInvocationCommand).callsFake((input) =>
    api(LATENCY.getCommandInvocation, () => {
      const command = commands.get(input.CommandId ?? '');
      if (command === undefined) throw new Error('unknown command');
      const age = performance.now() - command.sentAt;
      if (age < LATENCY.invisibleAfterSend)
        throw new InvocationDoesNotExist({ message: 'not yet', $metadata: {} });
      const runsFor = command.phase === 'freeze' ? LATENCY.freezeScript : LATENCY.thawScript;
      if (age < LATENCY.agentPickUp + runsFor) return { Status: 'InProgress' as const };
      const fields =
        command.phase === 'freeze' ? 'status=frozen frozenAt=0' : 'status=thawed watchdog=disarmed';
      return {
        Status: 'Success' as const,
        StatusDetails: 'Success',
        ResponseCode: 0,
        StandardOutputContent: `WATCHKEEPER phase=${command.phase} ${fields}\n`,
      };
    }),
  );
  try {
    await approach(new EC2Client({ region: 'eu-west-1' }), new SSMClient({ region: 'eu-west-1' }));
    // The thaw's own effect may land a moment after its Success is seen.
    await sleep(LATENCY.agentPickUp + LATENCY.thawScript);
  } finally {
    ec2Mock.restore();
    ssmMock.restore();
  }
  return {
    windowMs: thawedAt - frozenAt,
    calls: calls.length,
    callsInWindow: calls.filter((at) => at >= frozenAt && at <= thawedAt).length,
  };
}

const section = snapshotsSchema.parse({ instances: [INSTANCE], freeze: FREEZE });
const runnerDeps = (ssm: SSMClient) => ({
  ssm,
  sleep: (ms: number) => sleep(ms),
  clock: () => performance.now(),
});

/** watchkeeper: the job itself (lock, idempotency check, freeze, ONE CreateSnapshots, thaw). */
async function watchkeeper(ec2: EC2Client, ssm: SSMClient): Promise<void> {
  const ctx = localJobContext({ name: 'snapshot-volumes' }, section, {
    runId: `bench-${Math.random()}`,
    budgetMs: 300_000,
    resolveSecret: async () => '',
    region: 'eu-west-1',
  });
  const outcome = await runSnapshots(ctx, {
    ec2,
    ec2In: () => ec2,
    invocationId: 'bench',
    ...runnerDeps(ssm),
  });
  if (!outcome.findings.some((finding) => finding.code === 'snapshot.created'))
    throw new Error(JSON.stringify(outcome.findings));
}

/** The original script made consistent: freeze everything, CreateSnapshot per volume, thaw. */
async function perVolume(ec2: EC2Client, ssm: SSMClient): Promise<void> {
  const deps = runnerDeps(ssm);
  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [INSTANCE] }));
  const volumes = described.Reservations?.[0]?.Instances?.[0]?.BlockDeviceMappings ?? [];
  const request = (phase: 'freeze' | 'thaw') => ({
    instanceId: INSTANCE,
    commands: phase === 'freeze' ? freezeCommands(FREEZE, 'peer') : thawCommands('peer'),
    comment: `watchkeeper ${phase} peer`,
    executionTimeoutSeconds: 30,
    waitMs: 30_000,
  });
  await runShellCommand(deps, request('freeze'));
  try {
    for (const mapping of volumes) {
      await ec2.send(
        new CreateSnapshotCommand({
          VolumeId: mapping.Ebs?.VolumeId,
          TagSpecifications: [
            { ResourceType: 'snapshot', Tags: [{ Key: 'device', Value: mapping.DeviceName }] },
          ],
        }),
      );
    }
  } finally {
    await runShellCommand(deps, request('thaw'));
  }
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

console.log(`snapshot-volumes vs per-volume CreateSnapshot under one freeze; ${RUNS} runs each, median`);
console.log(
  `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${new Date().toISOString()}`,
);
console.log(`simulated latencies (ms): ${JSON.stringify(LATENCY)}\n`);
console.log(
  `${'volumes'.padEnd(8)} ${'window ms: ours'.padStart(16)} ${'per-volume'.padStart(11)} ${'ratio'.padStart(6)}   ${'calls: ours'.padStart(11)} ${'per-volume'.padStart(11)}   ${'in window: ours'.padStart(16)} ${'per-volume'.padStart(11)}`,
);
for (const volumes of [1, 4, 8]) {
  const ours: Measurement[] = [];
  const peer: Measurement[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    ours.push(await measure(volumes, watchkeeper));
    peer.push(await measure(volumes, perVolume));
  }
  const row = (list: Measurement[], key: keyof Measurement) => median(list.map((entry) => entry[key]));
  const oursWindow = row(ours, 'windowMs');
  const peerWindow = row(peer, 'windowMs');
  console.log(
    `${String(volumes).padEnd(8)} ${oursWindow.toFixed(0).padStart(16)} ${peerWindow.toFixed(0).padStart(11)} ${(peerWindow / oursWindow).toFixed(2).padStart(6)}   ${String(row(ours, 'calls')).padStart(11)} ${String(row(peer, 'calls')).padStart(11)}   ${String(row(ours, 'callsInWindow')).padStart(16)} ${String(row(peer, 'callsInWindow')).padStart(11)}`,
  );
}
console.log('\nratio = per-volume window / ours (above 1: ours blocks writes for less time).');
console.log(
  'calls include DescribeInstances and the SSM polls; ours also checks for a retried run (DescribeSnapshots).',
);
