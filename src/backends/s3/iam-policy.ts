/**
 * The least the service's credentials need on its bucket (the guide's IAM policy): list and
 * locate the bucket, read/write/delete objects, and clean up multipart uploads. Setup itself
 * (creating the bucket, CORS, lifecycle…) is an administrator's job and is not included.
 */
export function minimalIamPolicy(bucket: string, opts: { kmsKeyArn?: string } = {}): Record<string, unknown> {
  const statements: Record<string, unknown>[] = [
    {
      Sid: 'BucketgateBucket',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
      Resource: `arn:aws:s3:::${bucket}`,
    },
    {
      Sid: 'BucketgateObjects',
      Effect: 'Allow',
      // Tagging: the SHA-256 of multipart uploads is kept in object tags.
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:GetObjectTagging', 's3:PutObjectTagging'],
      Resource: `arn:aws:s3:::${bucket}/*`,
    },
  ];
  if (opts.kmsKeyArn) {
    statements.push({ Sid: 'BucketgateKms', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: opts.kmsKeyArn });
  }
  return { Version: '2012-10-17', Statement: statements };
}
