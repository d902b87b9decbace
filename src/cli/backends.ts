import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { BACKEND_KINDS, type Config, type Env, loadConfig, readEnv } from '../config/index.js';
import type { Backend } from '../core/backend.js';
import { StorageError } from '../core/errors.js';
import { KeyRules } from '../core/keys.js';
import { createBackend } from '../service/backend-factory.js';

/** Variables from an env file only (for a second backend, e.g. `--to-env target.env`). */
export function envFromFile(path: string, flag: string): Env {
  try {
    return parseDotenv(readFileSync(path));
  } catch (err) {
    throw new StorageError('InvalidArgument', `${flag}: cannot read ${path} (${(err as Error).message})`);
  }
}

/**
 * A backend named by the guide's values (`local`, `s3`, `minio`, `supabase`), configured by
 * the guide's variables: from `envFile` when given, else from the environment and `.env`.
 */
export function backendConfig(kind: string | undefined, envFile?: string, flag = '--env'): Config {
  const env: Env = envFile ? envFromFile(envFile, flag) : readEnv();
  if (kind !== undefined) {
    if (!(BACKEND_KINDS as readonly string[]).includes(kind)) throw new StorageError('InvalidArgument', `${flag.replace('-env', '')}: expected one of ${BACKEND_KINDS.join(', ')}, got "${kind}"`);
    env.BHIV_STORAGE_BACKEND = kind;
  }
  return loadConfig(env);
}

/**
 * Opens the backend a configuration names. `mustExist`: a local bucket folder that is not there
 * is an error (a mistyped path read as an empty bucket would make `sync --delete` empty the
 * mirror), and nothing is created for it.
 */
export async function openBackend(config: Config, opts: { mustExist?: boolean; role?: string } = {}): Promise<Backend> {
  if (opts.mustExist && config.backend === 'local' && !existsSync(config.bucketPath)) {
    throw new StorageError('ConfigInvalid', `BHIV_BUCKET_PATH${opts.role ? ` of ${opts.role}` : ''}: ${config.bucketPath} does not exist`);
  }
  return createBackend(config, new KeyRules(config.segments.map((s) => s.name)));
}

/** Where a configuration's objects live, to tell one store named twice from two stores. */
export function storeIdentity(config: Config): string {
  const env = config.env;
  if (config.backend === 'local') {
    const path = resolve(config.bucketPath);
    return `local:${existsSync(path) ? realpathSync(path) : path}`;
  }
  if (config.backend === 'supabase') return `supabase:${(env.SUPABASE_URL ?? '').replace(/\/+$/, '').toLowerCase()}/${env.SUPABASE_BUCKET_NAME ?? ''}`;
  // s3 and minio alike: one endpoint (AWS by region when unset) and bucket.
  const endpoint = env.S3_ENDPOINT_URL ? new URL(env.S3_ENDPOINT_URL).origin.toLowerCase() : `aws:${env.S3_REGION ?? 'us-east-1'}`;
  return `s3:${endpoint}/${env.S3_BUCKET_NAME ?? ''}`;
}

export function parseConcurrency(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new StorageError('InvalidArgument', '--concurrency must be an integer from 1 to 256');
  return n;
}
