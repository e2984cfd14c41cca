/**
 * One instance's snapshot, in the only safe order: lock → freeze (hook via SSM, watchdog armed on
 * the instance) → one CreateSnapshots for all its volumes → thaw as soon as the call returns →
 * thaw again on every failure path → tags, run record, retention, copies → unlock.
 */
import {
  CreateSnapshotsCommand,
  CreateTagsCommand,
  type EC2Client,
  type SnapshotInfo,
  type Tag,
} from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { CommandError, errorMessage, errorName } from '#shared/ec2/errors.ts';
import type { InstanceInfo } from '#shared/ec2/instances.ts';
import { listOwnSnapshots, MANAGED_FILTER } from '#shared/ec2/snapshots.ts';
import {
  CONSISTENCY_TAG,
  type Consistency,
  DEVICE_TAG,
  DEVICES_TAG,
  FREEZE_MODE_TAG,
  INSTANCE_TAG,
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  RUN_ID_TAG,
} from '#shared/ec2/tags.ts';
import type { Finding, Severity } from '#shared/findings.ts';
import type { JobContext } from '#shared/job.ts';
import type { FreezeSpec, SnapshotsSection } from './config.ts';
import { copyNewestSnapshots } from './copy.ts';
import {
  type ActiveFreeze,
  freezeCommands,
  parseHookStatus,
  thawCommands,
  watchdogSecondsOf,
} from './hook.ts';
import { executePrune, planPrune } from './retention.ts';
import { runShellCommand, type ShellCommandOutcome } from './ssm.ts';

/** Collaborators of the snapshot job, injectable for tests and the benchmark. */
export interface SnapshotDeps {
  ec2: EC2Client;
  ssm: SSMClient;
  /** EC2 client of another region, for cross-region copies. */
  ec2In: (region: string) => EC2Client;
  sleep: (ms: number) => Promise<void>;
  /** Milliseconds clock for timeouts and the freeze window. */
  clock: () => number;
  /** A value unique to this invocation, so a duplicate invocation of the same run is told apart. */
  invocationId: string;
}

/** The settings that apply to one instance (its own, else the section's). */
export interface InstanceSettings {
  freeze: FreezeSpec;
  onFreezeFailure: 'crash-consistent' | 'skip';
  includeBootVolume: boolean;
  excludeVolumeIds: readonly string[];
  tags: Record<string, string>;
}

/** What one instance contributed to the report. */
export interface InstanceResult {
  findings: Finding[];
  created: number;
  reused: number;
  pruned: number;
  copied: number;
  freezeWindowMs: number | undefined;
}

/** State partition of the per-instance locks. */
export const LOCK_PARTITION = 'lock#snapshot-volumes';
/** State partition of finished (run, instance) pairs, for idempotent retries. */
export const RUN_PARTITION = 'run#snapshot-volumes';
const RUN_RECORD_TTL_SECONDS = 7 * 86_400;
// Slack between "the create call returned" and the watchdog: clocks and SSM are not exact.
const WATCHDOG_MARGIN_MS = 2_000;

type FreezeResult =
  | { kind: 'not-needed'; consistency: Consistency; note?: string }
  | { kind: 'frozen'; sentAt: number; confirmedAt: number; frozenAtEpoch: number | undefined }
  | { kind: 'failed'; reason: string; detail: Record<string, unknown>; sent: boolean };

/** Snapshots one instance; never throws for per-instance trouble (it becomes findings). */
export async function snapshotInstance(
  ctx: JobContext<SnapshotsSection>,
  deps: SnapshotDeps,
  instance: InstanceInfo,
  settings: InstanceSettings,
): Promise<InstanceResult> {
  const result: InstanceResult = {
    findings: [],
    created: 0,
    reused: 0,
    pruned: 0,
    copied: 0,
    freezeWindowMs: undefined,
  };
  const label = instance.name === undefined ? instance.id : `${instance.name} (${instance.id})`;
  const finding = findingRecorder(ctx, instance.id, result);

  const excluded = new Set(settings.excludeVolumeIds);
  const volumes = instance.volumes.filter(
    (volume) => (settings.includeBootVolume || !volume.boot) && !excluded.has(volume.volumeId),
  );
  if (volumes.length === 0) {
    finding(
      'snapshot.no-volumes',
      'warning',
      `${label} has no EBS volume to snapshot after exclusions; nothing was backed up.`,
      {
        attached: instance.volumes.map((volume) => volume.volumeId),
        includeBootVolume: settings.includeBootVolume,
      },
    );
    return result;
  }

  const spec = settings.freeze;
  const watchdogSeconds = spec.mode === 'none' ? 0 : watchdogSecondsOf(spec);
  const owner = `${ctx.runId}#${deps.invocationId}`;
  const ttlSeconds = Math.ceil(ctx.deadline.remainingMs() / 1000) + watchdogSeconds + 60;
  const lock = await ctx.state.acquireLock(LOCK_PARTITION, instance.id, owner, ttlSeconds);
  if (!lock.acquired) {
    const sameRun = lock.heldBy.startsWith(`${ctx.runId}#`);
    finding(
      'snapshot.skipped-locked',
      'info',
      sameRun
        ? `Skipped ${label}: a duplicate invocation of this run is already snapshotting it.`
        : `Skipped ${label}: run ${lock.heldBy.split('#')[0]} holds its snapshot lock until ${lock.expiresAt}.`,
      { heldBy: lock.heldBy, expiresAt: lock.expiresAt },
    );
    return result;
  }
  try {
    if (await alreadyDone(ctx, deps, instance, label, result)) return result;
    await snapshotLocked(ctx, deps, instance, label, settings, volumes, result);
  } finally {
    await ctx.state.releaseLock(LOCK_PARTITION, instance.id, owner);
  }
  return result;
}

// A retried invocation (same run id) must not freeze or snapshot again: the run record says it is
// done; failing that (a crash between create and record), the run-id tag does.
/** Records findings about one instance into its result, tagged with the run id. */
function findingRecorder(ctx: JobContext<SnapshotsSection>, instanceId: string, result: InstanceResult) {
  return (code: string, severity: Severity, message: string, data: Record<string, unknown> = {}): void => {
    result.findings.push({
      job: ctx.job,
      code,
      target: instanceId,
      severity,
      message,
      data: { runId: ctx.runId, ...data },
    });
  };
}

async function alreadyDone(
  ctx: JobContext<SnapshotsSection>,
  deps: SnapshotDeps,
  instance: InstanceInfo,
  label: string,
  result: InstanceResult,
): Promise<boolean> {
  const record = await ctx.state.get(RUN_PARTITION, `${ctx.runId}#${instance.id}`);
  let snapshotIds = Array.isArray(record?.['snapshotIds']) ? (record['snapshotIds'] as string[]) : [];
  let consistency = typeof record?.['consistency'] === 'string' ? record['consistency'] : undefined;
  if (record === undefined) {
    const tagged = await listOwnSnapshots(
      deps.ec2,
      [
        MANAGED_FILTER,
        { Name: `tag:${RUN_ID_TAG}`, Values: [ctx.runId] },
        { Name: `tag:${INSTANCE_TAG}`, Values: [instance.id] },
      ],
      ctx.deadline.signal,
    );
    snapshotIds = tagged.map((snapshot) => snapshot.snapshotId);
    consistency = tagged[0]?.tags[CONSISTENCY_TAG];
  }
  if (snapshotIds.length === 0) return false;
  result.reused = snapshotIds.length;
  result.findings.push({
    job: ctx.job,
    code: 'snapshot.created',
    target: instance.id,
    severity: 'ok',
    message: `${label} was already snapshotted by this run (${snapshotIds.length} snapshots); not frozen or snapshotted again.`,
    data: { runId: ctx.runId, snapshotIds, consistency, reused: true },
  });
  return true;
}

async function snapshotLocked(
  ctx: JobContext<SnapshotsSection>,
  deps: SnapshotDeps,
  instance: InstanceInfo,
  label: string,
  settings: InstanceSettings,
  volumes: InstanceInfo['volumes'],
  result: InstanceResult,
): Promise<void> {
  const finding = findingRecorder(ctx, instance.id, result);
  const spec = settings.freeze;
  const active: ActiveFreeze | undefined = spec.mode === 'none' ? undefined : spec;

  let freeze: FreezeResult;
  if (active === undefined) freeze = { kind: 'not-needed', consistency: 'crash' };
  else if (instance.state === 'stopped') {
    // A stopped instance's file systems were unmounted cleanly: nothing to quiesce.
    freeze = { kind: 'not-needed', consistency: 'application', note: 'stopped' };
  } else freeze = await runFreeze(ctx, deps, instance.id, active);

  const thaw =
    active === undefined || freeze.kind === 'not-needed' ? undefined : makeThaw(ctx, deps, instance.id);

  if (freeze.kind === 'failed') {
    // Whatever the freeze did before it failed is undone before anything else happens.
    const thawed = thaw === undefined || !freeze.sent ? undefined : await thaw();
    const skip = settings.onFreezeFailure === 'skip';
    finding(
      'snapshot.freeze-failed',
      skip ? 'critical' : 'warning',
      skip
        ? `Freezing ${label} failed (${freeze.reason}); no snapshot was made (onFreezeFailure: skip).`
        : `Freezing ${label} failed (${freeze.reason}); taking a crash-consistent snapshot instead.`,
      { freezeMode: spec.mode, ...freeze.detail },
    );
    if (thawed?.ok === false)
      reportThawFailure(
        finding,
        label,
        thawed,
        undefined,
        deps.clock(),
        active === undefined ? 0 : watchdogSecondsOf(active),
      );
    if (skip) return;
  }

  const watchdogMs = active === undefined ? 0 : watchdogSecondsOf(active) * 1000;
  let frozen = freeze.kind === 'frozen' ? freeze : undefined;
  if (frozen !== undefined && thaw !== undefined) {
    const leftMs = frozen.sentAt + watchdogMs - WATCHDOG_MARGIN_MS - deps.clock();
    if (leftMs < 1_000) {
      // The watchdog would thaw during the call: the snapshot could not be called consistent.
      const thawed = await thaw();
      finding(
        'snapshot.freeze-failed',
        settings.onFreezeFailure === 'skip' ? 'critical' : 'warning',
        `Freezing ${label} took longer than its ${watchdogMs / 1000} s watchdog allows; ${settings.onFreezeFailure === 'skip' ? 'no snapshot was made' : 'taking a crash-consistent snapshot instead'}.`,
        { freezeMode: spec.mode, reason: 'watchdog-too-close' },
      );
      if (thawed.ok === false)
        reportThawFailure(finding, label, thawed, frozen, deps.clock(), watchdogMs / 1000);
      if (settings.onFreezeFailure === 'skip') return;
      frozen = undefined;
    }
  }
  const expected: Consistency =
    frozen !== undefined ? 'application' : freeze.kind === 'not-needed' ? freeze.consistency : 'crash';

  const createTimeoutMs = Math.min(
    ctx.config.createTimeoutSeconds * 1000,
    frozen === undefined
      ? Number.POSITIVE_INFINITY
      : frozen.sentAt + watchdogMs - WATCHDOG_MARGIN_MS - deps.clock(),
  );
  const bootExcluded = !settings.includeBootVolume && instance.volumes.some((volume) => volume.boot);
  const devicesTag = devicesTagValue(volumes);
  const excludedData = instance.volumes
    .filter((volume) => !volume.boot && !volumes.includes(volume))
    .map((volume) => volume.volumeId);
  let created: SnapshotInfo[] | undefined;
  let createError: unknown;
  let createReturnedAt = 0;
  let thawed: ThawResult | undefined;
  try {
    try {
      created = await withTimeout(
        (signal) =>
          deps.ec2.send(
            new CreateSnapshotsCommand({
              InstanceSpecification: {
                InstanceId: instance.id,
                ExcludeBootVolume: bootExcluded,
                ...(excludedData.length > 0 ? { ExcludeDataVolumeIds: excludedData } : {}),
              },
              CopyTagsFromSource: 'volume',
              Description:
                `watchkeeper ${spec.mode === 'none' ? 'crash' : expected}-consistent snapshot of ${instance.id} (run ${ctx.runId})`.slice(
                  0,
                  255,
                ),
              TagSpecifications: [
                {
                  ResourceType: 'snapshot',
                  Tags: [
                    ...snapshotTags(ctx.runId, instance.id, expected, spec.mode, settings.tags),
                    ...(devicesTag === undefined ? [] : [{ Key: DEVICES_TAG, Value: devicesTag }]),
                  ],
                },
              ],
            }),
            { abortSignal: signal },
          ),
        createTimeoutMs,
      ).then((output) => output.Snapshots ?? []);
    } catch (error) {
      createError = error;
    }
    createReturnedAt = deps.clock();
  } finally {
    // Thaw the moment the call returns (or fails): the snapshot is fixed once it is pending.
    if (thaw !== undefined && frozen !== undefined) thawed = await thaw();
  }
  if (frozen !== undefined) result.freezeWindowMs = deps.clock() - frozen.sentAt;

  let consistency = expected;
  if (frozen !== undefined) {
    const beforeWatchdog = createReturnedAt < frozen.sentAt + watchdogMs;
    if (!beforeWatchdog && (thawed?.watchdogFired ?? true)) consistency = 'crash';
    if (thawed?.ok === false)
      reportThawFailure(finding, label, thawed, frozen, deps.clock(), watchdogMs / 1000);
    else if (thawed?.watchdogFired) {
      finding(
        'snapshot.thaw-failed',
        'warning',
        `The thaw of ${label} came too late: its watchdog had already thawed it after ${watchdogMs / 1000} s of blocked writes.`,
        { watchdogFired: true, watchdogSeconds: watchdogMs / 1000, consistency },
      );
    }
  }

  if (createError !== undefined) {
    // A call that timed out may still have created the set: look for it by its run tag.
    const late = await listOwnSnapshots(deps.ec2, [
      MANAGED_FILTER,
      { Name: `tag:${RUN_ID_TAG}`, Values: [ctx.runId] },
      { Name: `tag:${INSTANCE_TAG}`, Values: [instance.id] },
    ]).catch(() => []);
    if (late.length === 0) {
      finding(
        'snapshot.create-failed',
        'critical',
        `Snapshotting ${label} failed: ${errorMessage(createError)}.`,
        {
          error: errorName(createError),
          volumes: volumes.map((volume) => volume.volumeId),
          thawed: thawed?.ok ?? null,
        },
      );
      return;
    }
    created = late.map((snapshot) => ({ SnapshotId: snapshot.snapshotId, VolumeId: snapshot.volumeId }));
  }

  const snapshots = created ?? [];
  const devices = new Map(instance.volumes.map((volume) => [volume.volumeId, volume.deviceName]));
  const tagFailures = await tagAfterThaw(
    deps.ec2,
    snapshots,
    devicesTag === undefined ? devices : undefined,
    consistency !== expected ? consistency : undefined,
  );
  const snapshotIds = snapshots.flatMap((snapshot) =>
    snapshot.SnapshotId === undefined ? [] : [snapshot.SnapshotId],
  );
  await ctx.state.put(
    RUN_PARTITION,
    `${ctx.runId}#${instance.id}`,
    { snapshotIds, consistency },
    { ttlSeconds: RUN_RECORD_TTL_SECONDS },
  );
  result.created = snapshotIds.length;
  const window = result.freezeWindowMs === undefined ? '' : `, frozen for ${result.freezeWindowMs} ms`;
  finding(
    'snapshot.created',
    consistency === 'crash' && spec.mode !== 'none' ? 'info' : 'ok',
    `Snapshotted ${snapshotIds.length} volume${snapshotIds.length === 1 ? '' : 's'} of ${label}, ${consistency}-consistent${window}.`,
    {
      snapshotIds,
      volumes: snapshots.map((snapshot) => ({
        volumeId: snapshot.VolumeId,
        snapshotId: snapshot.SnapshotId,
        device: devices.get(snapshot.VolumeId ?? ''),
      })),
      consistency,
      freezeMode: spec.mode,
      freezeWindowMs: result.freezeWindowMs,
      ...(freeze.kind === 'not-needed' && freeze.note !== undefined ? { note: freeze.note } : {}),
      ...(tagFailures.length > 0 ? { tagFailures } : {}),
    },
  );

  // Retention and copies only after a successful snapshot: a broken backup must not also shrink
  // the set of good ones.
  if (ctx.config.retention === undefined && ctx.config.copyTo.length === 0) return;
  const ours = await listOwnSnapshots(
    deps.ec2,
    [MANAGED_FILTER, { Name: `tag:${INSTANCE_TAG}`, Values: [instance.id] }],
    ctx.deadline.signal,
  );
  if (ctx.config.retention !== undefined) {
    const pruned = await executePrune(deps.ec2, planPrune(ours, ctx.config.retention, ctx.now()), {
      job: ctx.job,
      target: instance.id,
      region: undefined,
      signal: ctx.deadline.signal,
    });
    result.pruned = pruned.filter((entry) => entry.code === 'snapshot.pruned').length;
    result.findings.push(...pruned);
  }
  for (const copy of ctx.config.copyTo) {
    const copied = await copyNewestSnapshots(
      ctx,
      deps.ec2In(copy.region),
      ours,
      instance.id,
      copy,
      ctx.runtime.region,
    );
    result.copied += copied.copied;
    result.findings.push(...copied.findings);
  }
}

function snapshotTags(
  runId: string,
  instanceId: string,
  consistency: Consistency,
  mode: string,
  extra: Record<string, string>,
): Tag[] {
  return [
    ...Object.entries(extra).map(([Key, Value]) => ({ Key, Value })),
    { Key: MANAGED_BY_TAG, Value: MANAGED_BY_VALUE },
    { Key: RUN_ID_TAG, Value: runId },
    { Key: INSTANCE_TAG, Value: instanceId },
    { Key: CONSISTENCY_TAG, Value: consistency },
    { Key: FREEZE_MODE_TAG, Value: mode },
  ];
}

/** Tag value mapping each volume to its device ("vol-0a=/dev/xvdf,vol-0b=/dev/xvdg"), if it fits. */
export function devicesTagValue(
  volumes: readonly { volumeId: string; deviceName: string }[],
): string | undefined {
  const value = volumes.map((volume) => `${volume.volumeId}=${volume.deviceName}`).join(',');
  return value.length <= 256 ? value : undefined;
}

// Outside the freeze window, and usually nothing to do: the device map went with CreateSnapshots.
// Only a map too long for one tag (many volumes) needs one CreateTags per snapshot, and a
// consistency downgrade needs one CreateTags for the whole set.
async function tagAfterThaw(
  ec2: EC2Client,
  snapshots: readonly SnapshotInfo[],
  devices: Map<string, string> | undefined,
  correctedConsistency: Consistency | undefined,
): Promise<string[]> {
  const failures: string[] = [];
  const ids = snapshots.flatMap((snapshot) =>
    snapshot.SnapshotId === undefined ? [] : [snapshot.SnapshotId],
  );
  const tag = async (resources: string[], tags: Tag[]) => {
    try {
      await ec2.send(new CreateTagsCommand({ Resources: resources, Tags: tags }));
    } catch (error) {
      failures.push(`${resources.join(',')}: ${errorMessage(error)}`);
    }
  };
  if (correctedConsistency !== undefined && ids.length > 0) {
    await tag(ids, [{ Key: CONSISTENCY_TAG, Value: correctedConsistency }]);
  }
  if (devices !== undefined) {
    for (const snapshot of snapshots) {
      const device = devices.get(snapshot.VolumeId ?? '');
      if (snapshot.SnapshotId !== undefined && device !== undefined) {
        await tag([snapshot.SnapshotId], [{ Key: DEVICE_TAG, Value: device }]);
      }
    }
  }
  return failures;
}

async function withTimeout<T>(call: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const error = new Error(`no answer within ${Math.round(timeoutMs)} ms`);
        error.name = 'TimeoutError';
        controller.abort(error);
        reject(error);
      },
      Math.max(0, timeoutMs),
    );
  });
  try {
    return await Promise.race([call(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runFreeze(
  ctx: JobContext<SnapshotsSection>,
  deps: SnapshotDeps,
  instanceId: string,
  spec: ActiveFreeze,
): Promise<FreezeResult> {
  const sentAt = deps.clock();
  let outcome: ShellCommandOutcome;
  try {
    outcome = await runShellCommand(deps, {
      instanceId,
      commands: freezeCommands(spec, ctx.runId),
      comment: `watchkeeper freeze ${ctx.runId}`,
      executionTimeoutSeconds: watchdogSecondsOf(spec),
      waitMs: ctx.config.freezeWaitSeconds * 1000,
    });
  } catch (error) {
    // A freeze that never reached SSM cannot have run: there is nothing to thaw.
    const sent = !(error instanceof CommandError) || error.sent;
    return { kind: 'failed', reason: errorMessage(error), detail: { error: errorName(error) }, sent };
  }
  if (outcome.kind === 'wait-timeout') {
    return {
      kind: 'failed',
      reason: `no result within ${ctx.config.freezeWaitSeconds} s (last status ${outcome.lastStatus}); the command was cancelled`,
      detail: { commandId: outcome.commandId, lastStatus: outcome.lastStatus },
      sent: true,
    };
  }
  const status = parseHookStatus(outcome.stdout);
  const detail = {
    commandId: outcome.commandId,
    ssmStatus: outcome.status,
    statusDetails: outcome.statusDetails,
    responseCode: outcome.responseCode,
    hook: status?.fields,
  };
  if (outcome.status === 'Success' && status?.status === 'frozen') {
    const epoch = Number(status?.fields['frozenAt']);
    return {
      kind: 'frozen',
      sentAt,
      confirmedAt: deps.clock(),
      frozenAtEpoch: Number.isFinite(epoch) ? epoch : undefined,
    };
  }
  return {
    kind: 'failed',
    reason: describeFailure(outcome, status?.status, status?.fields['reason']),
    detail,
    sent: true,
  };
}

function describeFailure(
  outcome: Extract<ShellCommandOutcome, { kind: 'finished' }>,
  hookStatus: string | undefined,
  hookReason: string | undefined,
): string {
  switch (outcome.statusDetails) {
    case 'Delivery Timed Out':
    case 'Undeliverable':
      return 'the SSM agent did not receive the command (is it running, and the instance managed?)';
    case 'Execution Timed Out':
      return 'the command ran past its execution timeout';
    default:
      break;
  }
  if (hookStatus === 'busy') return 'another run holds the freeze on the instance';
  if (hookStatus === 'already-frozen') return 'a file system was already frozen by someone else';
  if (hookStatus !== undefined)
    return `hook said ${hookStatus}${hookReason === undefined ? '' : ` (${hookReason})`}`;
  return `SSM status ${outcome.statusDetails}, exit code ${outcome.responseCode}`;
}

interface ThawResult {
  ok: boolean;
  watchdogFired: boolean;
  reason: string;
}

function makeThaw(
  ctx: JobContext<SnapshotsSection>,
  deps: SnapshotDeps,
  instanceId: string,
): () => Promise<ThawResult> {
  return async () => {
    let reason = '';
    // A thaw that could not even be sent is tried once more; a thaw that ran and failed is not.
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      let outcome: ShellCommandOutcome;
      try {
        outcome = await runShellCommand(deps, {
          instanceId,
          commands: thawCommands(ctx.runId),
          comment: `watchkeeper thaw ${ctx.runId}`,
          executionTimeoutSeconds: 60,
          waitMs: ctx.config.thawWaitSeconds * 1000,
        });
      } catch (error) {
        reason = errorMessage(error);
        continue;
      }
      if (outcome.kind === 'wait-timeout')
        return {
          ok: false,
          watchdogFired: false,
          reason: `no result within ${ctx.config.thawWaitSeconds} s`,
        };
      const status = parseHookStatus(outcome.stdout);
      if (
        (outcome.status === 'Success' && (status?.status === 'thawed' || status?.status === 'not-frozen')) ||
        // The freeze on the instance belongs to another run (exit 3): nothing of ours is frozen.
        (status?.status === 'busy' && status.fields['heldBy'] !== undefined)
      ) {
        return { ok: true, watchdogFired: status?.fields['watchdog'] === 'fired', reason: '' };
      }
      return {
        ok: false,
        watchdogFired: false,
        reason: describeFailure(outcome, status?.status, status?.fields['reason']),
      };
    }
    return { ok: false, watchdogFired: false, reason };
  };
}

function reportThawFailure(
  finding: (code: string, severity: Severity, message: string, data?: Record<string, unknown>) => void,
  label: string,
  thawed: ThawResult,
  frozen: Extract<FreezeResult, { kind: 'frozen' }> | undefined,
  nowMs: number,
  watchdogSeconds: number,
): void {
  // The watchdog was armed before the freeze, so it fires at most this long after the freeze
  // started (the instance's own clock when it said so, else ours as an upper bound).
  const by =
    frozen?.frozenAtEpoch !== undefined
      ? new Date((frozen.frozenAtEpoch + watchdogSeconds) * 1000)
      : new Date((frozen?.confirmedAt ?? nowMs) + watchdogSeconds * 1000);
  finding(
    'snapshot.thaw-failed',
    'critical',
    `Thawing ${label} failed (${thawed.reason}); its watchdog thaws it by ${by.toISOString()} at the latest — check that writes resume.`,
    { reason: thawed.reason, watchdogThawsBy: by.toISOString(), watchdogSeconds },
  );
}
