import { createLocalBackend } from '../backends/local/index.js';
import { s3OptionsFromEnv } from '../backends/s3/config.js';
import { supabaseOptionsFromEnv } from '../backends/supabase/options.js';
import type { Config } from '../config/index.js';
import type { Backend } from '../core/backend.js';
import type { KeyRules } from '../core/keys.js';

/**
 * The guide's automatic selection: one configured backend, built from its variables. The S3
 * and Supabase backends are loaded only when chosen (the AWS SDK alone is ~80 ms of start-up
 * for every CLI command).
 */
export async function createBackend(config: Config, keys: KeyRules): Promise<Backend> {
  switch (config.backend) {
    case 'local':
      return createLocalBackend({ root: config.bucketPath, keys, encryptionKey: config.security.encryptionKey });
    case 's3':
    case 'minio':
      return (await import('../backends/s3/index.js')).createS3Backend(s3Options(config, keys));
    case 'supabase':
      return (await import('../backends/supabase/index.js')).createSupabaseBackend({ ...supabaseOptionsFromEnv(config.env), keys });
  }
}

export function s3Options(config: Config, keys?: KeyRules) {
  return s3OptionsFromEnv(config.env, { minio: config.backend === 'minio', keys, publicSegments: config.segments.filter((s) => s.public).map((s) => s.name) });
}
