/**
 * Which IAM actions an AWS SDK command needs. Most are `<service>:<Operation>`; the exceptions
 * (S3's ListObjectsV2 is s3:ListBucket, CopyObject reads one object and writes another, EC2
 * CreateSnapshots with tags also needs ec2:CreateTags ...) are listed here. `optional` actions
 * are needed only for some inputs (versioned objects, KMS-encrypted objects) and may be granted.
 */

/** IAM prefix of each SDK client package. */
export const SERVICE_PREFIX: Record<string, string> = {
  'client-acm': 'acm',
  'client-dynamodb': 'dynamodb',
  'client-ec2': 'ec2',
  'client-s3': 's3',
  'client-sns': 'sns',
  'client-ssm': 'ssm',
};

interface ActionRule {
  required: string[];
  optional?: string[];
}

const EXCEPTIONS: Record<string, ActionRule> = {
  // Bundled by the DynamoDB client for endpoint discovery, which is off unless configured.
  'dynamodb:DescribeEndpoints': { required: [] },
  // Bundled by the S3 client for S3 Express directory buckets only (s3express:CreateSession).
  's3:CreateSession': { required: [], optional: ['s3express:CreateSession'] },
  's3:ListObjectsV2': { required: ['s3:ListBucket'] },
  's3:ListObjectVersions': { required: ['s3:ListBucketVersions'] },
  's3:HeadBucket': { required: ['s3:ListBucket'] },
  's3:HeadObject': { required: ['s3:GetObject'], optional: ['s3:GetObjectVersion', 'kms:Decrypt'] },
  's3:GetObject': { required: ['s3:GetObject'], optional: ['s3:GetObjectVersion', 'kms:Decrypt'] },
  's3:CopyObject': {
    required: ['s3:GetObject', 's3:PutObject'],
    optional: [
      's3:GetObjectVersion',
      's3:GetObjectTagging',
      's3:GetObjectVersionTagging',
      's3:PutObjectTagging',
      's3:PutObjectAcl',
      's3:PutObjectRetention',
      's3:PutObjectLegalHold',
      'kms:Decrypt',
      'kms:GenerateDataKey',
    ],
  },
  // Multipart copy (objects over 5 GB): all parts authorise as reading the source, writing the target.
  's3:CreateMultipartUpload': {
    required: ['s3:PutObject'],
    optional: ['s3:PutObjectTagging', 's3:PutObjectAcl', 'kms:GenerateDataKey'],
  },
  's3:UploadPartCopy': {
    required: ['s3:GetObject', 's3:PutObject'],
    optional: ['s3:GetObjectVersion', 'kms:Decrypt'],
  },
  's3:CompleteMultipartUpload': {
    required: ['s3:PutObject'],
    optional: ['s3:PutObjectRetention', 's3:PutObjectLegalHold'],
  },
  's3:GetObjectTagging': { required: ['s3:GetObjectTagging'], optional: ['s3:GetObjectVersionTagging'] },
  's3:GetObjectAcl': { required: ['s3:GetObjectAcl'], optional: ['s3:GetObjectVersionAcl'] },
  's3:PutObjectAcl': { required: ['s3:PutObjectAcl'], optional: ['s3:PutObjectVersionAcl'] },
  'ec2:CreateSnapshots': { required: ['ec2:CreateSnapshots', 'ec2:CreateTags'] },
  'ec2:CopySnapshot': {
    required: ['ec2:CopySnapshot'],
    optional: ['ec2:CreateTags', 'kms:Decrypt', 'kms:ReEncrypt*'],
  },
  'ssm:GetParameter': { required: ['ssm:GetParameter'], optional: ['kms:Decrypt'] },
};

/** Required and optional IAM actions of one command, e.g. (`client-s3`, `CopyObject`). */
export function actionsForCommand(clientPackage: string, operation: string): ActionRule {
  const prefix = SERVICE_PREFIX[clientPackage];
  if (!prefix)
    throw new Error(`no IAM prefix known for @aws-sdk/${clientPackage}; add it to deploy/iam-actions.ts`);
  const action = `${prefix}:${operation}`;
  return EXCEPTIONS[action] ?? { required: [action] };
}
