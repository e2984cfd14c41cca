/** Settings shared by every job: region, resolver, and how findings are notified. */
import * as z from 'zod';
import { resolverField } from './fields.ts';

const hours = z
  .number()
  .min(0)
  .max(24 * 365);

/** `notify` section: what a run sends, and when it repeats itself. */
export const notifySchema = z
  .object({
    mode: z
      .enum(['changes', 'always'])
      .default('changes')
      .describe('"changes": new, worse, reminders and resolved; "always": every run that has findings'),
    remindAfterHours: z
      .object({
        critical: hours.default(24),
        warning: hours.default(24 * 7),
        unknown: hours.default(24),
        info: hours.default(0),
      })
      .strict()
      .default({ critical: 24, warning: 24 * 7, unknown: 24, info: 0 })
      .describe('Remind of a finding that persists after this many hours; 0 never reminds'),
    unknownAfterRuns: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe('Notify an `unknown` finding only after it persists for this many consecutive runs'),
    notifyResolved: z.boolean().default(true).describe('Say when a notified problem is gone'),
    topicArn: z
      .string()
      .regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/, 'expected an SNS topic ARN')
      .optional()
      .describe('SNS topic for --publish from the CLI; in AWS the stack topic is used'),
  })
  .strict();

/** Top-level settings outside any job section. */
export const globalShape = {
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as "eu-west-1"')
    .optional()
    .describe('AWS region of the stack and of the resources checked'),
  resolver: resolverField.optional(),
  notify: notifySchema.default(notifySchema.parse({})),
};

/** The validated global settings. */
export type GlobalSettings = z.infer<z.ZodObject<typeof globalShape>>;
/** The validated `notify` section. */
export type NotifySettings = z.infer<typeof notifySchema>;
