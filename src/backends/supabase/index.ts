import { defaultKeyRules } from '../../core/keys.js';
import { StorageError } from '../../core/errors.js';
import { SupabaseBackend } from './backend.js';
import { supabaseClient } from './connect.js';
import { DEFAULT_CHUNK_BYTES, type SupabaseBackendOptions } from './options.js';
import { COPY_LIMIT_BYTES } from './upload.js';

export { SupabaseBackend, STAGING_FOLDER } from './backend.js';
export { type SupabaseBackendOptions, supabaseOptionsFromEnv } from './options.js';
export { setupSupabaseBucket, supabasePoliciesSql, type BucketSetup, type SetupReport } from './setup.js';
export { testSupabaseConnection, type ConnectionReport } from './connection-test.js';
export type { TransformOptions } from './urls.js';
export { supabaseClient } from './connect.js';

/** Builds the backend; makes no request (use `health()` or `testSupabaseConnection` for that). */
export function createSupabaseBackend(opts: SupabaseBackendOptions): SupabaseBackend {
  if (!opts?.url) throw new StorageError('ConfigInvalid', 'SUPABASE_URL: expected the project URL');
  if (!opts.bucket) throw new StorageError('ConfigInvalid', 'SUPABASE_BUCKET_NAME: expected the name of the bucket');
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  return new SupabaseBackend(supabaseClient(opts), opts.bucket, opts.keys ?? defaultKeyRules, {
    thresholdBytes: opts.resumableThresholdBytes ?? chunkBytes,
    chunkBytes,
    copyLimitBytes: opts.copyLimitBytes ?? COPY_LIMIT_BYTES,
  });
}
