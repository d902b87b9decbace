import { StorageError } from '../../core/errors.js';
import { SupabaseClient } from './client.js';
import { type SupabaseBackendOptions, storageBase } from './options.js';

/** The client a backend, setup or the connection test talks through: the service_role key first. */
export function supabaseClient(opts: SupabaseBackendOptions, which: 'best' | 'service_role' = 'best'): SupabaseClient {
  const token = which === 'service_role' ? opts.serviceRoleKey : (opts.serviceRoleKey ?? opts.key);
  if (!token) {
    throw new StorageError(
      'ConfigInvalid',
      which === 'service_role' ? 'SUPABASE_SERVICE_ROLE_KEY: expected the service_role key (needed to create and change buckets)' : 'SUPABASE_KEY: expected the project API key',
    );
  }
  return new SupabaseClient(storageBase(opts.url), token, opts.requestTimeoutMs ?? 30_000);
}
