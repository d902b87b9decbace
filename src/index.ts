/** The library: `import { createStorage } from 'bucketgate'`. */
export * from './core/index.js';
export { createStorage, Storage, VERSION } from './service/storage.js';
export type { CreateStorageOptions } from './service/storage.js';
export type { StoredObject } from './service/context.js';
export type { UploadOptions } from './service/objects.js';
export type { UploadGrant } from './service/uploads.js';
export { loadConfig, readEnv } from './config/index.js';
export type { Config, SegmentConfig } from './config/index.js';
export { buildServer } from './http/server.js';
export { createLocalBackend } from './backends/local/index.js';
export type { S3BackendOptions } from './backends/s3/config.js';
import type { S3Backend } from './backends/s3/backend.js';
import type { S3BackendOptions } from './backends/s3/config.js';

/** The S3 backend (AWS S3, MinIO, Ceph…). The AWS SDK loads on the first call, not with the library. */
export async function createS3Backend(opts: S3BackendOptions): Promise<S3Backend> {
  return (await import('./backends/s3/index.js')).createS3Backend(opts);
}
export { createSupabaseBackend, setupSupabaseBucket, supabaseOptionsFromEnv, supabasePoliciesSql, testSupabaseConnection } from './backends/supabase/index.js';
export { openCatalog } from './catalog/index.js';
