import { createLocalBackend } from '../backends/local/index.js';
import { createS3Backend, s3OptionsFromEnv } from '../backends/s3/index.js';
import { createSupabaseBackend, supabaseOptionsFromEnv } from '../backends/supabase/index.js';
import type { Config } from '../config/index.js';
import type { Backend } from '../core/backend.js';
import type { KeyRules } from '../core/keys.js';

/** The guide's automatic selection: one configured backend, built from its variables. */
export async function createBackend(config: Config, keys: KeyRules): Promise<Backend> {
  switch (config.backend) {
    case 'local':
      return createLocalBackend({ root: config.bucketPath, keys, encryptionKey: config.security.encryptionKey });
    case 's3':
    case 'minio':
      return createS3Backend(s3Options(config, keys));
    case 'supabase':
      return createSupabaseBackend({ ...supabaseOptionsFromEnv(config.env), keys });
  }
}

export function s3Options(config: Config, keys?: KeyRules) {
  return s3OptionsFromEnv(config.env, { minio: config.backend === 'minio', keys, publicSegments: config.segments.filter((s) => s.public).map((s) => s.name) });
}
