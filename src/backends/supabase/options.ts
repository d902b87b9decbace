import { configError, readNumber, readString, readUrl } from '../../config/parse.js';
import type { Env } from '../../config/parse.js';
import type { KeyRules } from '../../core/keys.js';

/** Everything the Supabase backend needs; `supabaseOptionsFromEnv` reads the guide's variables. */
export interface SupabaseBackendOptions {
  /** The project URL (`https://<ref>.supabase.co`) or any server speaking the Storage API; `/storage/v1` is added. */
  url: string;
  /** SUPABASE_KEY: the anon (or publishable) key, used when no service_role key is given. */
  key?: string;
  /** SUPABASE_SERVICE_ROLE_KEY: bypasses RLS; needed to create buckets. Preferred for a server. */
  serviceRoleKey?: string;
  /** SUPABASE_BUCKET_NAME: the one bucket holding every segment as its top-level folder. */
  bucket: string;
  keys?: KeyRules;
  /** Bodies larger than this go through the resumable (TUS) endpoint. Default 6 MiB. */
  resumableThresholdBytes?: number;
  /** TUS chunk size; Supabase requires 6 MiB. */
  chunkBytes?: number;
  /** Bodies declared larger than this skip the staging copy (Supabase copies up to 5 GiB); for tests. */
  copyLimitBytes?: number;
  /** Timeout of calls without a body stream (metadata, listing, signing). Default 30 s. */
  requestTimeoutMs?: number;
}

export const MiB = 1024 * 1024;
export const DEFAULT_CHUNK_BYTES = 6 * MiB;

/** Supabase bucket names: S3-safe characters, 1..100 of them. */
const BUCKET_NAME = /^[A-Za-z0-9_!.*'() &$=@;:+,?-]{1,100}$/;

export function supabaseOptionsFromEnv(env: Env): SupabaseBackendOptions {
  const url = readUrl(env, 'SUPABASE_URL');
  if (!url) throw configError('SUPABASE_URL', 'the project URL, such as https://your-project.supabase.co');
  const key = readString(env, 'SUPABASE_KEY');
  const serviceRoleKey = readString(env, 'SUPABASE_SERVICE_ROLE_KEY');
  if (!key && !serviceRoleKey) throw configError('SUPABASE_KEY', 'the project API key (or set SUPABASE_SERVICE_ROLE_KEY)');
  for (const [name, value] of [['SUPABASE_KEY', key], ['SUPABASE_SERVICE_ROLE_KEY', serviceRoleKey]] as const) {
    if (value !== undefined && !/^[A-Za-z0-9_\-.]+$/.test(value)) throw configError(name, 'a JWT or sb_… API key', '(not a key)');
  }
  const bucket = readString(env, 'SUPABASE_BUCKET_NAME');
  if (!bucket) throw configError('SUPABASE_BUCKET_NAME', 'the name of the bucket, such as ai-agent-files');
  if (!BUCKET_NAME.test(bucket)) throw configError('SUPABASE_BUCKET_NAME', 'a Supabase bucket name (letters, digits and _!.*\'() &$=@;:+,?-)', bucket);
  const thresholdMb = readNumber(env, 'SUPABASE_RESUMABLE_THRESHOLD_MB', 6, { min: 0.001, max: 5 * 1024 });
  return { url, key, serviceRoleKey, bucket, resumableThresholdBytes: Math.floor(thresholdMb * MiB) };
}

/** The Storage API's base URL: `<project>/storage/v1`, accepting a URL that already ends with it. */
export function storageBase(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/storage/v1') ? trimmed : `${trimmed}/storage/v1`;
}
