/**
 * The scheduled audit: for each configured bucket prefix, stream the listing, inspect the keys
 * with bounded concurrency, count the healthy ones, and keep a checkpoint so a run cut short by
 * its deadline resumes where it stopped and `since` makes the next cycle incremental.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { type Finding, type Severity, worse } from '#shared/findings.ts';
import type { Deadline, JobLogger } from '#shared/job.ts';
import type { StateStore, StateValue } from '#shared/state/store.ts';
import type { BucketTarget, ContentTypesSection } from './config.ts';
import { errorName, isDirectoryBucket } from './fix.ts';
import { forEachBounded } from './for-each-bounded.ts';
import { type InspectOptions, inspectObject, JOB_NAME, objectTarget } from './inspect.ts';
import { type ListedObject, listObjects, skipReason } from './listing.ts';
import { CODES, normaliseOverrides } from './rules.ts';

/** State partition of the audit's checkpoints; items are keyed by `bucket/prefix`. */
export const CHECKPOINT_PARTITION = `checkpoint#${JOB_NAME}`;

/** Checkpoints are written at least this often (objects), so a hard kill loses little. */
const CHECKPOINT_EVERY = 1000;

/** `since` looks back this much further than the last cycle's start, for clock skew and in-flight uploads. */
const SINCE_MARGIN_MS = 15 * 60 * 1000;

/** Example keys kept per aggregated finding. */
const EXAMPLES = 10;

/** Per-prefix counters (healthy objects are only ever counted, never listed). */
const STAT_NAMES = [
  'objectsListed',
  'objectsChecked',
  'objectsHealthy',
  'objectsWithProblems',
  'objectsFixed',
  'fixesSkipped',
  'objectsSniffed',
  'objectsUnchanged',
  'objectsExcluded',
  'objectsUnknownExtension',
  'objectsVanished',
  'objectsFailed',
  'charsetMissing',
  'bucketsResumed',
  'bucketsFailed',
] as const;
/** The name of one audit counter. */
export type StatName = (typeof STAT_NAMES)[number];

/** A checkpoint as stored. */
export interface Checkpoint {
  /** Set while a cycle is unfinished: the next run lists from after this key. */
  startAfter?: string;
  /** When the unfinished cycle began (becomes `lastCompleteRunAt` when it completes). */
  cycleStartedAt?: string;
  /** The `since` threshold the unfinished cycle uses. */
  modifiedAfter?: string;
  /** Start of the last cycle that covered the whole prefix. */
  lastCompleteRunAt?: string;
}

/** The collaborators an audit needs (a JobContext provides all of them). */
export interface AuditContext {
  now: () => Date;
  deadline: Deadline;
  logger: JobLogger;
  state: StateStore;
}

/** What auditing one bucket prefix produced. */
export interface BucketOutcome {
  findings: Finding[];
  stats: Record<StatName, number>;
  /** Set when the deadline stopped the audit of this prefix early. */
  resumeAfter?: string;
  complete: boolean;
}

/** The checkpoint key of a bucket prefix. */
export function checkpointKey(target: Pick<BucketTarget, 'bucket' | 'prefix'>): string {
  return `${target.bucket}/${target.prefix}`;
}

function readCheckpoint(value: StateValue | undefined): Checkpoint {
  const checkpoint: Checkpoint = {};
  if (value === undefined) return checkpoint;
  for (const field of ['startAfter', 'cycleStartedAt', 'modifiedAfter', 'lastCompleteRunAt'] as const) {
    const item = value[field];
    if (typeof item === 'string') checkpoint[field] = item;
  }
  return checkpoint;
}

/**
 * Tracks the last key before which every key has been fully handled, while items finish out of
 * order. Memory is bounded by the number of items in flight.
 */
class Watermark {
  #next = 0;
  #issued = 0;
  readonly #pending = new Map<number, { key: string; done: boolean }>();
  key: string | undefined;

  issue(key: string): number {
    this.#pending.set(this.#issued, { key, done: false });
    return this.#issued++;
  }

  complete(sequence: number): void {
    const entry = this.#pending.get(sequence);
    if (entry) entry.done = true;
    for (let head = this.#pending.get(this.#next); head?.done; head = this.#pending.get(this.#next)) {
      this.key = head.key;
      this.#pending.delete(this.#next);
      this.#next += 1;
    }
  }
}

function withoutResumePoint(checkpoint: Checkpoint): Checkpoint {
  return checkpoint.lastCompleteRunAt === undefined
    ? {}
    : { lastCompleteRunAt: checkpoint.lastCompleteRunAt };
}

function isAbort(error: unknown): boolean {
  return errorName(error) === 'AbortError';
}

/** Audits one bucket prefix, resuming from and updating its checkpoint. */
export async function auditBucket(
  s3: S3Client,
  target: BucketTarget,
  section: ContentTypesSection,
  context: AuditContext,
): Promise<BucketOutcome> {
  const key = checkpointKey(target);
  const scope = `s3://${target.bucket}/${target.prefix}`;
  const stored = readCheckpoint(await context.state.get(CHECKPOINT_PARTITION, key));
  // Directory buckets (S3 Express One Zone) list keys unsorted and do not take StartAfter, so a
  // cut-short cycle there starts over (only `since` keeps it incremental).
  const resumable = !isDirectoryBucket(target.bucket);
  const previous: Checkpoint = resumable ? stored : withoutResumePoint(stored);
  const resuming = previous.startAfter !== undefined;
  const cycleStartedAt =
    resuming && previous.cycleStartedAt ? previous.cycleStartedAt : context.now().toISOString();
  let modifiedAfter: string | undefined;
  if (resuming) modifiedAfter = previous.modifiedAfter;
  else if (section.since && previous.lastCompleteRunAt !== undefined) {
    modifiedAfter = new Date(Date.parse(previous.lastCompleteRunAt) - SINCE_MARGIN_MS).toISOString();
  }
  const threshold = modifiedAfter === undefined ? undefined : new Date(modifiedAfter);

  const stats: Record<StatName, number> = Object.fromEntries(STAT_NAMES.map((name) => [name, 0])) as Record<
    StatName,
    number
  >;
  if (resuming) stats.bucketsResumed = 1;
  const findings: Finding[] = [];
  const charsetExamples: string[] = [];
  const failures = new Map<string, number>();
  const failureExamples: string[] = [];
  const overflow = new Map<string, { count: number; severity: Severity; examples: string[] }>();
  let kept = 0;
  const keep = (finding: Finding, objectKey: string): void => {
    if (kept < section.maxFindings) {
      kept += 1;
      findings.push(finding);
      return;
    }
    const entry = overflow.get(finding.code) ?? { count: 0, severity: finding.severity, examples: [] };
    entry.count += 1;
    entry.severity = worse(entry.severity, finding.severity);
    if (entry.examples.length < EXAMPLES) entry.examples.push(objectKey);
    overflow.set(finding.code, entry);
  };
  const watermark = new Watermark();
  let aborted = 0;
  let savedAt = 0;
  let completedSinceSave = 0;
  let saving: Promise<void> = Promise.resolve();

  const save = (checkpoint: Checkpoint): Promise<void> => {
    // A failed write must not poison the chain: the next one carries newer progress anyway.
    saving = saving
      .catch(() => undefined)
      .then(() => context.state.put(CHECKPOINT_PARTITION, key, { ...checkpoint }));
    return saving;
  };
  const progress = (): Checkpoint => {
    const checkpoint: Checkpoint = { cycleStartedAt };
    const after = watermark.key ?? previous.startAfter;
    if (after !== undefined && resumable) checkpoint.startAfter = after;
    if (modifiedAfter !== undefined) checkpoint.modifiedAfter = modifiedAfter;
    if (previous.lastCompleteRunAt !== undefined) checkpoint.lastCompleteRunAt = previous.lastCompleteRunAt;
    return checkpoint;
  };

  const options: InspectOptions = {
    overrides: normaliseOverrides(section.types),
    sniff: section.sniff,
    fix: section.fix,
    signal: context.deadline.signal,
    remainingMs: () => context.deadline.remainingMs(),
  };

  const handle = async ({ object, sequence }: { object: ListedObject; sequence: number }): Promise<void> => {
    let finished = true;
    try {
      const reason = skipReason(object, target, threshold);
      if (reason === 'unchanged') stats.objectsUnchanged += 1;
      else if (reason !== undefined) stats.objectsExcluded += 1;
      if (reason !== undefined) return;
      const inspection = await inspectObject(s3, { bucket: target.bucket, key: object.key }, options);
      const count = (name: StatName): void => {
        stats[name] += 1;
      };
      if (inspection.status === 'vanished') return count('objectsVanished');
      if (inspection.status === 'unknown-extension') return count('objectsUnknownExtension');
      count('objectsChecked');
      if (inspection.sniffed) count('objectsSniffed');
      if (inspection.fix?.fixed === true) count('objectsFixed');
      else if (inspection.fix !== undefined) count('fixesSkipped');
      if (inspection.fix?.fixed !== true && inspection.status === 'problem') count('objectsWithProblems');
      if (inspection.status === 'healthy') count('objectsHealthy');
      if (inspection.charsetMissing) {
        count('charsetMissing');
        if (charsetExamples.length < EXAMPLES) charsetExamples.push(object.key);
      }
      for (const finding of inspection.findings) keep(finding, object.key);
    } catch (error) {
      if (isAbort(error)) {
        // Cut off by the deadline: not done, so the checkpoint stays before it.
        finished = false;
        aborted += 1;
        return;
      }
      const name = errorName(error);
      failures.set(name, (failures.get(name) ?? 0) + 1);
      stats.objectsFailed += 1;
      if (failureExamples.length < EXAMPLES) failureExamples.push(object.key);
    } finally {
      if (finished) watermark.complete(sequence);
      completedSinceSave += 1;
      if (completedSinceSave >= CHECKPOINT_EVERY && watermark.key !== undefined) {
        completedSinceSave = 0;
        savedAt += 1;
        void save(progress()).catch((error: unknown) =>
          context.logger.warn('checkpoint write failed', { bucket: target.bucket, error: errorName(error) }),
        );
      }
    }
  };

  async function* sequenced(): AsyncGenerator<{ object: ListedObject; sequence: number }> {
    const listing = listObjects(s3, {
      bucket: target.bucket,
      prefix: target.prefix,
      ...(previous.startAfter === undefined ? {} : { startAfter: previous.startAfter }),
      signal: context.deadline.signal,
    });
    for await (const object of listing) {
      stats.objectsListed += 1;
      yield { object, sequence: watermark.issue(object.key) };
    }
  }

  let stoppedEarly = false;
  try {
    const outcome = await forEachBounded(sequenced(), section.concurrency, handle, context.deadline);
    stoppedEarly = outcome.stoppedEarly || aborted > 0;
  } catch (error) {
    if (!isAbort(error)) {
      await saving.catch(() => undefined);
      // The listing itself failed (AccessDenied, NoSuchBucket): an `unknown` for the whole prefix.
      findings.push({
        job: JOB_NAME,
        code: CODES.checkFailed,
        target: scope,
        severity: 'unknown',
        message: `Could not list ${scope} (${errorName(error)}), so its Content-Types were not checked.`,
        data: { bucket: target.bucket, prefix: target.prefix, error: errorName(error) },
      });
      if (watermark.key !== undefined) await save(progress());
      stats.bucketsFailed = 1;
      return { findings, stats, complete: false };
    }
    stoppedEarly = true;
  }

  if (stats.charsetMissing > 0) {
    const count = stats.charsetMissing;
    const example =
      charsetExamples[0] === undefined ? '' : ` (e.g. ${objectTarget(target.bucket, charsetExamples[0])})`;
    findings.push({
      job: JOB_NAME,
      code: CODES.charsetMissing,
      target: scope,
      severity: 'info',
      message: `${count} text object${count === 1 ? '' : 's'} under ${scope} ha${count === 1 ? 's' : 've'} no charset in the Content-Type${example}, so browsers guess the encoding.`,
      data: { bucket: target.bucket, prefix: target.prefix, count, examples: charsetExamples },
    });
  }
  for (const [code, entry] of overflow) {
    findings.push({
      job: JOB_NAME,
      code,
      target: scope,
      severity: entry.severity,
      message: `${entry.count} more ${code} finding${entry.count === 1 ? '' : 's'} under ${scope} are not listed one by one (maxFindings is ${section.maxFindings}), e.g. ${objectTarget(target.bucket, entry.examples[0] ?? '')}.`,
      data: { bucket: target.bucket, prefix: target.prefix, count: entry.count, examples: entry.examples },
    });
  }
  if (failures.size > 0) {
    const count = stats.objectsFailed;
    const errors = Object.fromEntries(failures);
    findings.push({
      job: JOB_NAME,
      code: CODES.checkFailed,
      target: scope,
      severity: 'unknown',
      message: `${count} object${count === 1 ? '' : 's'} under ${scope} could not be checked (${[...failures.keys()].join(', ')}).`,
      data: { bucket: target.bucket, prefix: target.prefix, count, errors, examples: failureExamples },
    });
  }

  if (stoppedEarly) {
    const checkpoint = progress();
    await save(checkpoint);
    const outcome: BucketOutcome = { findings, stats, complete: false };
    if (checkpoint.startAfter !== undefined) outcome.resumeAfter = checkpoint.startAfter;
    context.logger.info('audit stopped at the deadline', {
      bucket: target.bucket,
      prefix: target.prefix,
      resumeAfter: checkpoint.startAfter,
      checkpointsWritten: savedAt,
    });
    return outcome;
  }
  await save({ lastCompleteRunAt: cycleStartedAt });
  return { findings, stats, complete: true };
}

/** Adds `from` into `into`, key by key. */
export function addStats(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [name, value] of Object.entries(from)) into[name] = (into[name] ?? 0) + value;
}
