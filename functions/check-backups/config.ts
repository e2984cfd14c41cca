/** The `backups` section: which volumes must have recent, healthy snapshots. */
import * as z from 'zod';
import { jobSectionBase } from '#shared/config/fields.ts';
import { instanceIdField, tagFilterField, volumeIdField } from '#shared/ec2/fields.ts';

/** The `backups` section. */
export const backupsSchema = z
  .object({
    ...jobSectionBase('cron(0 7 * * ? *)'),
    instances: z.array(instanceIdField).default([]).describe('Audit the volumes attached to these instances'),
    instanceTags: tagFilterField.optional().describe('Also audit the volumes of instances with these tags'),
    volumes: z.array(volumeIdField).default([]).describe('Audit these volumes'),
    volumeTags: tagFilterField.optional().describe('Also audit volumes with these tags'),
    includeBootVolume: z
      .boolean()
      .default(false)
      .describe('Audit the boot volumes of selected instances too (snapshot-volumes skips them by default)'),
    maxAgeHours: z
      .number()
      .min(1)
      .max(24 * 400)
      .default(26)
      .describe('The newest completed snapshot must be younger than this (a daily schedule plus slack)'),
    pendingTooLongHours: z
      .number()
      .min(1)
      .max(24 * 14)
      .default(8)
      .describe('A snapshot still pending after this long is reported'),
    expectConsistency: z
      .enum(['any', 'application'])
      .default('any')
      .describe(
        '"application": the newest snapshot of every volume must be application-consistent (watchkeeper, DLM script or VSS tags); "any": only where a freeze was configured',
      ),
    concurrency: z.number().int().min(1).max(20).default(4).describe('DescribeSnapshots calls at once'),
  })
  .strict()
  .refine(
    (value) =>
      value.instances.length > 0 ||
      value.volumes.length > 0 ||
      value.instanceTags !== undefined ||
      value.volumeTags !== undefined,
    {
      message: 'expected "instances", "instanceTags", "volumes" or "volumeTags" to select volumes',
      path: ['instances'],
    },
  );

/** The validated `backups` section. */
export type BackupsSection = z.infer<typeof backupsSchema>;
