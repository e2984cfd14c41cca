/** Configuration fields for EC2 and EBS resources, shared by the jobs that select instances and volumes. */
import * as z from 'zod';

/** EC2 instance id. */
export const instanceIdField = z
  .string()
  .regex(/^i-[0-9a-f]{8}([0-9a-f]{9})?$/, 'expected an EC2 instance id such as "i-0123456789abcdef0"');

/** EBS volume id. */
export const volumeIdField = z
  .string()
  .regex(/^vol-[0-9a-f]{8}([0-9a-f]{9})?$/, 'expected an EBS volume id such as "vol-0123456789abcdef0"');

/** Tag filters: every key must match one of its values (EC2 `tag:Key` filters). */
export const tagFilterField = z
  .record(
    z.string().min(1).max(128),
    z
      .union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).min(1)])
      .transform((value) => (Array.isArray(value) ? value : [value])),
  )
  .refine((value) => Object.keys(value).length > 0, { message: 'expected at least one tag' })
  .describe('Tag filters, e.g. {"Backup": "daily"}; every key must match one of its values');
