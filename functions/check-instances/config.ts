/** The `instances` section: which EC2 instances to watch and when an event becomes critical. */
import * as z from 'zod';
import { jobSectionBase } from '#shared/config/fields.ts';
import { instanceIdField, tagFilterField } from '#shared/ec2/fields.ts';

/** Schema of the `instances` section. */
export const instancesSchema = z
  .object({
    ...jobSectionBase('rate(6 hours)'),
    instanceIds: z
      .array(instanceIdField)
      .default([])
      .describe('Instances to watch; with neither instanceIds nor tags, every instance in the region'),
    tags: tagFilterField
      .optional()
      .describe(
        'Tag filters (every key must match one of its values; values may use * wildcards), e.g. {env: prod}',
      ),
    criticalWithinDays: z
      .number()
      .min(0)
      .max(365)
      .default(14)
      .describe('Retirement and stop events due within this many days are critical (warning before)'),
  })
  .strict();

/** Validated `instances` section. */
export type InstancesSection = z.infer<typeof instancesSchema>;
