/** snapshot-volumes: freeze-hooked, crash-consistent-across-volumes EBS snapshots with safe retention. */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapBounded } from '#shared/concurrency.ts';
import { explainAwsError, requireRegion } from '#shared/ec2/errors.ts';
import { describeSelectedInstances, type InstanceInfo } from '#shared/ec2/instances.ts';
import { MANAGED_BY_TAG, MANAGED_BY_VALUE } from '#shared/ec2/tags.ts';
import type { Finding } from '#shared/findings.ts';
import type { IamStatement, JobContext, JobDefinition, JobOutcome } from '#shared/job.ts';
import { ec2Client, ec2ClientIn, ssmClient } from './clients.ts';
import { type SnapshotsSection, snapshotsSchema } from './config.ts';
import { type InstanceSettings, type SnapshotDeps, snapshotInstance } from './orchestrate.ts';

/** Runs the snapshot job with explicit collaborators (the definition wires the real ones). */
export async function runSnapshots(
  ctx: JobContext<SnapshotsSection>,
  deps: SnapshotDeps,
): Promise<JobOutcome> {
  const config = ctx.config;
  const ids = config.instances.map(instanceIdOf);
  let found: Map<string, InstanceInfo>;
  try {
    found = await describeSelectedInstances(
      deps.ec2,
      { ids, tags: config.instanceTags },
      ctx.deadline.signal,
    );
  } catch (error) {
    throw explainAwsError('Listing the instances to snapshot (DescribeInstances)', error);
  }
  const findings: Finding[] = [];
  for (const id of ids) {
    if (!found.has(id)) {
      findings.push({
        job: ctx.job,
        code: 'snapshot.create-failed',
        target: id,
        severity: 'critical',
        message: `Instance ${id} was not found (or is terminated); no snapshot was made.`,
        data: { runId: ctx.runId, reason: 'instance-not-found' },
      });
    }
  }
  const targets = [...found.values()];
  const { results, notStarted } = await mapBounded(
    targets,
    config.concurrency,
    async (instance) => {
      try {
        return await snapshotInstance(ctx, deps, instance, settingsFor(config, instance.id));
      } catch (error) {
        // Per-instance trouble the orchestration did not anticipate (a state store outage, say)
        // must not hide the other instances' results.
        const message = error instanceof Error ? error.message : String(error);
        ctx.logger.error('snapshot of instance failed', { instanceId: instance.id, error: message });
        return {
          findings: [
            {
              job: ctx.job,
              code: 'snapshot.create-failed',
              target: instance.id,
              severity: 'critical' as const,
              message: `Snapshotting ${instance.id} failed unexpectedly: ${message}.`,
              data: { runId: ctx.runId, reason: 'unexpected-error' },
            },
          ],
          created: 0,
          reused: 0,
          pruned: 0,
          copied: 0,
          freezeWindowMs: undefined,
        };
      }
    },
    ctx.deadline,
  );
  const stats: Record<string, number> = {
    instances: targets.length,
    snapshotsCreated: 0,
    snapshotsReused: 0,
    snapshotsPruned: 0,
    snapshotsCopied: 0,
    freezeWindowMsMax: 0,
  };
  for (const result of results) {
    findings.push(...result.findings);
    stats['snapshotsCreated'] = (stats['snapshotsCreated'] ?? 0) + result.created;
    stats['snapshotsReused'] = (stats['snapshotsReused'] ?? 0) + result.reused;
    stats['snapshotsPruned'] = (stats['snapshotsPruned'] ?? 0) + result.pruned;
    stats['snapshotsCopied'] = (stats['snapshotsCopied'] ?? 0) + result.copied;
    stats['freezeWindowMsMax'] = Math.max(stats['freezeWindowMsMax'] ?? 0, result.freezeWindowMs ?? 0);
  }
  stats['volumes'] = targets.reduce((sum, instance) => sum + instance.volumes.length, 0);
  const outcome: JobOutcome = { findings, stats };
  if (notStarted.length > 0) {
    outcome.incomplete = {
      message: `${notStarted.length} instance(s) not snapshotted before the deadline: ${notStarted.map((instance) => instance.id).join(', ')}.`,
      data: { notStarted: notStarted.map((instance) => instance.id) },
    };
  }
  return outcome;
}

/** The settings for one instance: its own entry over the section's. */
export function settingsFor(config: SnapshotsSection, instanceId: string): InstanceSettings {
  const own = config.instances.find(
    (entry): entry is Exclude<typeof entry, string> => typeof entry !== 'string' && entry.id === instanceId,
  );
  return {
    freeze: own?.freeze ?? config.freeze,
    onFreezeFailure: own?.onFreezeFailure ?? config.onFreezeFailure,
    includeBootVolume: own?.includeBootVolume ?? config.includeBootVolume,
    excludeVolumeIds: own?.excludeVolumeIds ?? [],
    tags: { ...config.tags, ...own?.tags },
  };
}

/** The id of an `instances` entry (a bare id or an object with settings). */
export function instanceIdOf(entry: SnapshotsSection['instances'][number]): string {
  return typeof entry === 'string' ? entry : entry.id;
}

// CloudFormation substitutions (the deploy template resolves them), hence the escaped `${`.
const ARN = {
  instance: `arn:aws:ec2:\${AWS::Region}:\${AWS::AccountId}:instance/*`,
  volume: `arn:aws:ec2:\${AWS::Region}:\${AWS::AccountId}:volume/*`,
  snapshot: `arn:aws:ec2:\${AWS::Region}::snapshot/*`,
  anySnapshot: 'arn:aws:ec2:*::snapshot/*',
  runShellScript: `arn:aws:ssm:\${AWS::Region}::document/AWS-RunShellScript`,
};

/**
 * The IAM statements for the calls the function can send. The actions are the same for every
 * section (the deploy test holds them to what the bundle ships); the section narrows resources:
 * snapshots in other regions only with `copyTo`, and deletion only of snapshots tagged as ours.
 */
export function snapshotPermissions(section: SnapshotsSection): IamStatement[] {
  const snapshots = section.copyTo.length > 0 ? ARN.anySnapshot : ARN.snapshot;
  return [
    { actions: ['ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:DescribeImages'], resources: ['*'] },
    { actions: ['ec2:CreateSnapshots'], resources: [ARN.instance, ARN.volume, ARN.snapshot] },
    { actions: ['ec2:CreateTags'], resources: [snapshots] },
    { actions: ['ec2:CopySnapshot'], resources: [ARN.anySnapshot] },
    {
      actions: ['ec2:DeleteSnapshot'],
      resources: [snapshots],
      // Whatever the code does, only snapshots tagged as ours can be deleted.
      conditions: { StringEquals: { [`aws:ResourceTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE } },
    },
    { actions: ['ssm:SendCommand'], resources: [ARN.runShellScript, ARN.instance] },
    { actions: ['ssm:GetCommandInvocation', 'ssm:CancelCommand'], resources: ['*'] },
  ];
}

/** The snapshot-volumes job. */
export const definition: JobDefinition<SnapshotsSection> = {
  name: 'snapshot-volumes',
  section: 'snapshots',
  description:
    'Snapshots the EBS volumes of selected instances (one point in time each), with a freeze hook and safe retention',
  schema: snapshotsSchema,
  runsLocally: false,
  permissions: snapshotPermissions,
  async run(ctx) {
    const region = requireRegion('snapshot-volumes', ctx.runtime.region, ctx.global.region);
    return runSnapshots(ctx, {
      ec2: ec2Client(region),
      ssm: ssmClient(region),
      ec2In: ec2ClientIn,
      sleep: (ms) => sleep(ms),
      clock: Date.now,
      invocationId: randomUUID(),
    });
  },
};
