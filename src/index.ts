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
export { createSupabaseBackend, setupSupabaseBucket, supabaseOptionsFromEnv, supabasePoliciesSql, testSupabaseConnection } from './backends/supabase/index.js';
export { openCatalog } from './catalog/index.js';
