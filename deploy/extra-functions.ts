/**
 * Functions that are not scheduled jobs but belong to one (the S3 Batch Operations worker of
 * audit-content-types): deployed with their own role, invoked by AWS services rather than schedules.
 */
import type { IamStatement } from '#shared/job.ts';

/** A function outside the job registry. */
export interface ExtraFunction {
  name: string;
  handler: string;
  description: string;
  timeoutSeconds: number;
  statements: IamStatement[];
}

/** Extra functions for the validated sections (keyed by section name). */
export function extraFunctions(_sections: Record<string, unknown>): ExtraFunction[] {
  return [];
}
