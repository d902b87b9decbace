import { S3Backend } from './backend.js';
import { createS3Client } from './client.js';
import { type S3BackendOptions, resolveS3Options } from './config.js';

export { S3Backend } from './backend.js';
export { type S3BackendOptions, s3OptionsFromEnv } from './config.js';
export { fromS3Error } from './errors.js';
export { setupS3Bucket, minimalIamPolicy, type SetupOptions, type SetupStep } from './setup.js';
export { testS3Connection, type ConnectionReport } from './connection-test.js';

/**
 * Builds the S3 backend. Nothing is sent to the store here (so a service can start while S3
 * is briefly down); `health()` or `testS3Connection` make the first round trip.
 */
export async function createS3Backend(opts: S3BackendOptions): Promise<S3Backend> {
  const resolved = resolveS3Options(opts);
  const client = createS3Client(resolved);
  return new S3Backend({ client, opts: resolved, bucket: resolved.bucket });
}
