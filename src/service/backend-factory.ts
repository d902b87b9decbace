import { createLocalBackend } from '../backends/local/index.js';
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
    default:
      throw new StorageError('ConfigInvalid', `BHIV_STORAGE_BACKEND: backend "${config.backend}" is not available in this build`);
  }
}
