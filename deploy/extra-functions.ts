/**
 * Functions that are not scheduled jobs but belong to one: the S3 Batch Operations worker of
 * audit-content-types (for buckets with millions of objects, driven by an S3 Inventory manifest).
 * They are invoked by AWS services rather than schedules and get their own role.
 */
import type { ContentTypesSection } from '#functions/audit-content-types/config.ts';
import { contentTypesPermissions } from '#functions/audit-content-types/job.ts';
import type { IamStatement } from '#shared/job.ts';

/** A function outside the job registry. */
export interface ExtraFunction {
  name: string;
  /** Entry file, relative to the repository. */
  entry: string;
  handler: string;
  description: string;
  timeoutSeconds: number;
  statements: IamStatement[];
}

/** Extra functions for the validated sections (keyed by section name). */
export function extraFunctions(sections: Record<string, unknown>): ExtraFunction[] {
  const extras: ExtraFunction[] = [];
  const contentTypes = sections['contentTypes'] as ContentTypesSection | undefined;
  if (contentTypes) {
    extras.push({
      name: 'audit-content-types-batch',
      entry: 'functions/audit-content-types/batch-handler.ts',
      handler: 'functions/audit-content-types/batch-handler.handler',
      description: 'S3 Batch Operations worker: the Content-Type audit (and fix, if enabled) per object',
      timeoutSeconds: 900,
      // The same buckets and the same opt-in: the worker may fix only where the job may. It gets
      // its keys from the manifest, so it never lists.
      statements: contentTypesPermissions(contentTypes)
        .map((statement) => ({
          ...statement,
          actions: statement.actions.filter((action) => action !== 's3:ListBucket'),
        }))
        .filter((statement) => statement.actions.length > 0),
    });
  }
  return extras;
}
