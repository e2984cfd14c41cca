/** The `instances` section: which EC2 instances to watch and when an event becomes critical. */
import * as z from 'zod';
import { jobSectionBase } from '#shared/config/fields.ts';

const instanceId = z
  .string()
  .regex(/^i-[0-9a-f]{8,17}$/, 'expected an EC2 instance id such as "i-0123456789abcdef0"');

/** Schema of the `instances` section. */
export const instancesSchema = z
  .object({
    ...jobSectionBase('rate(6 hours)'),
    instanceIds: z
      .array(instanceId)
      .default([])
      .describe('Instances to watch; with neither instanceIds nor tags, every instance in the region'),
    tags: z
      .record(z.string().min(1), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]))
      .default({})
      .describe(
        'Tag filters (all must match; values may use * wildcards), e.g. {env: prod, role: [web, db]}',
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
