import { createLocalBackend } from '../backends/local/index.js';
import { createS3Backend, s3OptionsFromEnv } from '../backends/s3/index.js';
import { createSupabaseBackend, supabaseOptionsFromEnv } from '../backends/supabase/index.js';
import type { Config } from '../config/index.js';
import type { Backend } from '../core/backend.js';
import { StorageError } from '../core/errors.js';
import type { KeyRules } from '../core/keys.js';

/** The guide's automatic selection: one configured backend, built from its variables. */
export async function createBackend(config: Config, keys: KeyRules): Promise<Backend> {
  switch (config.backend) {
    case 'local':
      return createLocalBackend({ root: config.bucketPath, keys, encryptionKey: config.security.encryptionKey });
    case 'supabase':
      return createSupabaseBackend({ ...supabaseOptionsFromEnv(config.env), keys });
    case 's3':
    case 'minio': {
      const publicSegments = config.segments.filter((s) => s.public).map((s) => s.name);
      return createS3Backend(s3OptionsFromEnv(config.env, { minio: config.backend === 'minio', keys, publicSegments }));
    }
    default:
      throw new StorageError('ConfigInvalid', `BHIV_STORAGE_BACKEND: backend "${config.backend}" is not available in this build`);
  }
}
