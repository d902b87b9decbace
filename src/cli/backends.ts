import { readFileSync } from 'node:fs';
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
export async function openBackend(kind: string | undefined, envFile?: string, flag = '--env'): Promise<{ backend: Backend; config: Config }> {
  const env: Env = envFile ? envFromFile(envFile, flag) : readEnv();
  if (kind !== undefined) {
    if (!(BACKEND_KINDS as readonly string[]).includes(kind)) throw new StorageError('InvalidArgument', `${flag.replace('-env', '')}: expected one of ${BACKEND_KINDS.join(', ')}, got "${kind}"`);
    env.BHIV_STORAGE_BACKEND = kind;
  }
  const config = loadConfig(env);
  const backend = await createBackend(config, new KeyRules(config.segments.map((s) => s.name)));
  return { backend, config };
}

export function parseConcurrency(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new StorageError('InvalidArgument', '--concurrency must be an integer from 1 to 256');
  return n;
}
