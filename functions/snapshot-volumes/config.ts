/** The `snapshots` section: which instances, how to quiesce them, tags and retention. */
import * as z from 'zod';
import { jobSectionBase } from '#shared/config/fields.ts';
import { instanceIdField, tagFilterField, volumeIdField } from '#shared/ec2/fields.ts';

// Exactly what the freeze hook accepts: anything a shell could interpret is refused here already,
// and again on the instance.
const mountPointField = z
  .string()
  .superRefine((value, ctx) => {
    // One message per bad value, the most specific one.
    const problem = !/^\/[A-Za-z0-9._/-]+$/.test(value)
      ? 'expected an absolute mount point of letters, digits, ".", "_", "-" and "/" (never "/")'
      : /(^|\/)\.{1,2}(\/|$)|\/\/|\/$/.test(value)
        ? 'expected a normalised path (no "..", ".", "//" or trailing "/")'
        : value === '/boot' || value.startsWith('/boot/')
          ? 'the root and boot file systems are never frozen'
          : undefined;
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('Mount point of a data file system on the snapshotted volumes, e.g. "/var/lib/mysql"');

const watchdogSeconds = z
  .number()
  .int()
  .min(5)
  .max(600)
  .default(30)
  .describe('The instance thaws (and unlocks) by itself this many seconds after the freeze starts');

const mountPoints = z
  .array(mountPointField)
  .min(1)
  .refine((value) => new Set(value).size === value.length, { message: 'expected distinct mount points' })
  .describe('Data file systems to freeze (never "/" or "/boot")');

/** How an instance is quiesced before its snapshot. */
export const freezeSchema = z
  .discriminatedUnion('mode', [
    z.object({ mode: z.literal('none').describe('Crash-consistent snapshots only') }).strict(),
    z
      .object({
        mode: z.literal('fsfreeze').describe('fsfreeze (xfs_freeze) the listed file systems'),
        mountPoints,
        watchdogSeconds,
      })
      .strict(),
    z
      .object({
        mode: z.literal('mysql').describe('Hold FLUSH TABLES WITH READ LOCK, then fsfreeze'),
        mountPoints,
        watchdogSeconds,
        defaultsFile: z
          .string()
          .regex(/^\/[A-Za-z0-9._/-]+$/, 'expected an absolute path such as "/root/.my.cnf"')
          .optional()
          .describe('MySQL option file on the instance with the client credentials (e.g. /root/.my.cnf)'),
        lockWaitSeconds: z
          .number()
          .int()
          .min(1)
          .max(60)
          .default(10)
          .describe('How long FLUSH TABLES WITH READ LOCK may wait behind running statements'),
      })
      .strict(),
    z
      .object({
        mode: z
          .literal('commands')
          .describe('Your own pre and post commands, as Data Lifecycle Manager runs them'),
        pre: z
          .string()
          .min(1)
          .describe(
            'Shell commands run (after the watchdog is armed) before the snapshot; exit 0 means quiesced',
          ),
        post: z
          .string()
          .min(1)
          .describe('Shell commands run after the snapshot call, on every failure path, or by the watchdog'),
        watchdogSeconds,
      })
      .strict(),
  ])
  .describe('How the instance is quiesced: none, fsfreeze, mysql (lock + fsfreeze) or commands');

/** What to do when the freeze hook fails. */
export const onFreezeFailureField = z
  .enum(['crash-consistent', 'skip'])
  .describe('"crash-consistent" snapshots anyway (and says so), "skip" makes no snapshot');

const extraTagsField = z
  .record(z.string().min(1).max(127), z.string().max(255))
  .superRefine((tags, ctx) => {
    for (const key of Object.keys(tags)) {
      if (key.startsWith('aws:') || key.startsWith('watchkeeper:')) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'tag keys starting with "aws:" or "watchkeeper:" are reserved',
        });
      }
    }
  })
  .describe('Extra tags put on every snapshot');

/** Per-instance settings; anything left out comes from the section. */
const instanceSchema = z
  .object({
    id: instanceIdField.describe('EC2 instance id'),
    freeze: freezeSchema.optional(),
    onFreezeFailure: onFreezeFailureField.optional(),
    includeBootVolume: z.boolean().optional().describe('Snapshot the boot volume too'),
    excludeVolumeIds: z.array(volumeIdField).default([]).describe('Data volumes not to snapshot'),
    tags: extraTagsField.optional(),
  })
  .strict();

const retentionSchema = z
  .object({
    keep: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe('Keep this many newest completed snapshots per volume'),
    maxAgeDays: z
      .number()
      .int()
      .min(1)
      .max(36500)
      .optional()
      .describe('Delete snapshots older than this (with `keep` too: only beyond the newest `keep`)'),
  })
  .strict()
  .refine((value) => value.keep !== undefined || value.maxAgeDays !== undefined, {
    message: 'expected "keep", "maxAgeDays" or both',
  })
  .describe('Which of our snapshots to delete; never the newest completed one, never a pending one');

const copySchema = z
  .object({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as "eu-central-1"')
      .describe('Region to copy the newest completed snapshot of each volume to'),
    retention: retentionSchema.optional().describe('Retention of the copies in that region'),
  })
  .strict();

/** The `snapshots` section. */
export const snapshotsSchema = z
  .object({
    ...jobSectionBase('cron(0 3 * * ? *)'),
    instances: z
      .array(z.union([instanceIdField, instanceSchema]))
      .default([])
      .describe('Instances by id ("i-0abc...") or with per-instance settings'),
    instanceTags: tagFilterField.optional().describe('Also select running instances with these tags'),
    freeze: freezeSchema.default({ mode: 'none' }),
    onFreezeFailure: onFreezeFailureField.default('crash-consistent'),
    includeBootVolume: z
      .boolean()
      .default(false)
      .describe('Snapshot boot volumes too (they are never frozen)'),
    tags: extraTagsField.default({}),
    retention: retentionSchema.optional(),
    copyTo: z
      .array(copySchema)
      .max(3)
      .default([])
      .describe("Copy each volume's newest completed snapshot to these regions"),
    createTimeoutSeconds: z
      .number()
      .min(1)
      .max(60)
      .default(10)
      .describe('Bound on the CreateSnapshots call while frozen; the thaw follows either way'),
    freezeWaitSeconds: z
      .number()
      .int()
      .min(5)
      .max(300)
      .default(30)
      .describe('How long to wait for the freeze command to report; then it is cancelled and thawed'),
    thawWaitSeconds: z
      .number()
      .int()
      .min(5)
      .max(300)
      .default(30)
      .describe('How long to wait for the thaw command to report'),
    concurrency: z.number().int().min(1).max(20).default(4).describe('Instances handled at once'),
  })
  .strict()
  .refine((value) => value.instances.length > 0 || value.instanceTags !== undefined, {
    message: 'expected "instances" or "instanceTags" to select at least one instance',
    path: ['instances'],
  });

/** The validated `snapshots` section. */
export type SnapshotsSection = z.infer<typeof snapshotsSchema>;
/** A validated freeze setting. */
export type FreezeSpec = z.infer<typeof freezeSchema>;
/** A validated retention setting. */
export type RetentionPolicy = z.infer<typeof retentionSchema>;
