/** audit-content-types: the Content-Type of S3 objects against their extensions, with an opt-in safe fix. */
import type { Finding } from '#shared/findings.ts';
import type { IamStatement, JobDefinition } from '#shared/job.ts';
import { addStats, auditBucket } from './audit.ts';
import { s3Client } from './client.ts';
import { type ContentTypesSection, contentTypesSchema } from './config.ts';
import { isDirectoryBucket } from './fix.ts';
import { JOB_NAME } from './inspect.ts';

/** IAM for exactly the calls the job makes: list, HEAD/ranged GET, and with `fix` the ACL read and the copy. */
export function contentTypesPermissions(section: ContentTypesSection): IamStatement[] {
  const buckets = [...new Set(section.buckets.map((target) => target.bucket))];
  const objects = [
    ...new Set(section.buckets.map((target) => `arn:aws:s3:::${target.bucket}/${target.prefix}*`)),
  ];
  const directory = buckets.filter(isDirectoryBucket);
  const statements: IamStatement[] = [
    { actions: ['s3:ListBucket'], resources: buckets.map((bucket) => `arn:aws:s3:::${bucket}`) },
    // HeadObject and GetObject (ranged) both authorise as s3:GetObject; versioned reads as GetObjectVersion.
    { actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: objects },
  ];
  if (directory.length > 0) {
    // Directory buckets authorise object calls through a session (read-only unless fixing).
    statements.push({
      actions: ['s3express:CreateSession'],
      resources: directory.map(
        (bucket) => `arn:aws:s3express:\${AWS::Region}:\${AWS::AccountId}:bucket/${bucket}`,
      ),
    });
  }
  if (section.fix) {
    statements.push({
      actions: [
        's3:GetObjectAcl',
        's3:GetObjectVersionAcl',
        's3:PutObject',
        's3:AbortMultipartUpload',
        's3:PutObjectAcl',
        's3:GetObjectTagging',
        's3:GetObjectVersionTagging',
        's3:PutObjectTagging',
        's3:PutObjectRetention',
        's3:PutObjectLegalHold',
      ],
      resources: objects,
    });
    // Copies of SSE-KMS objects decrypt the source and encrypt the copy with the same key.
    statements.push({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: ['*'] });
  }
  return statements;
}

/** The job definition the runner, CLI and handler use. */
export const definition: JobDefinition<ContentTypesSection> = {
  name: JOB_NAME,
  section: 'contentTypes',
  description:
    'Audits the Content-Type of S3 objects against their extensions (and fixes them safely, opt-in).',
  schema: contentTypesSchema,
  runsLocally: true,
  permissions: contentTypesPermissions,
  async run(ctx) {
    const s3 = s3Client();
    const findings: Finding[] = [];
    const stats: Record<string, number> = {};
    let bucketsAudited = 0;
    let bucketsComplete = 0;
    let objectsChecked = 0;
    const resumeAt: string[] = [];
    const notReached: string[] = [];
    for (const target of ctx.config.buckets) {
      const scope = `s3://${target.bucket}/${target.prefix}`;
      if (ctx.deadline.reached()) {
        notReached.push(scope);
        continue;
      }
      const outcome = await auditBucket(s3, target, ctx.config, ctx);
      findings.push(...outcome.findings);
      addStats(stats, outcome.stats);
      bucketsAudited += 1;
      objectsChecked += outcome.stats.objectsChecked;
      if (outcome.complete) bucketsComplete += 1;
      else if (outcome.stats.bucketsFailed === 0) {
        resumeAt.push(`${scope} after "${outcome.resumeAfter ?? '(start)'}"`);
      }
    }
    Object.assign(stats, { bucketsAudited, bucketsComplete });
    if (resumeAt.length === 0 && notReached.length === 0) return { findings, stats };
    const parts: string[] = [];
    if (resumeAt.length > 0) parts.push(`stopped in ${resumeAt.join(', ')}`);
    if (notReached.length > 0) parts.push(`did not reach ${notReached.join(', ')}`);
    return {
      findings,
      stats,
      incomplete: {
        message: `The Content-Type audit ${parts.join(' and ')}; the next run resumes there.`,
        data: { resumeAt, notReached, objectsChecked },
      },
    };
  },
};
