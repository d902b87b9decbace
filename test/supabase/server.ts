import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SupabaseBackendOptions } from '../../src/backends/supabase/index.js';
import { type ServiceHandle, startService } from '../support/service.js';

/**
 * A bucketgate on local disk speaking the Supabase Storage API: the "Supabase server" the
 * Supabase backend is tested against. Its one bucket is a segment with no type rules.
 */
export interface SupabaseServer {
  service: ServiceHandle;
  /** What SUPABASE_URL would be (the backend adds /storage/v1). */
  url: string;
  bucket: string;
  serviceKey: string;
  anonKey: string;
  options(extra?: Partial<SupabaseBackendOptions>): SupabaseBackendOptions;
  stop(): Promise<void>;
}

export async function startSupabaseServer(opts: { bucket?: string; maxMb?: number } = {}): Promise<SupabaseServer> {
  const bucket = opts.bucket ?? 'bucketgate-test';
  const dir = await mkdtemp(join(tmpdir(), 'bg-supabase-'));
  const segments = join(dir, 'segments.json');
  await writeFile(segments, JSON.stringify([{ name: bucket, public: false, allowedTypes: null }]));
  const service = await startService({ env: { BHIV_SEGMENTS_FILE: segments, MAX_UPLOAD_SIZE_MB: String(opts.maxMb ?? 64), BHIV_IDLE_TIMEOUT_MS: '10000' } });
  const serviceKey = await service.storage.jwt.mint({ role: 'service_role', sub: 'supabase-backend', ttlSeconds: 24 * 3600 });
  const anonKey = await service.storage.jwt.mint({ role: 'anon', ttlSeconds: 24 * 3600 });
  return {
    service,
    url: service.url,
    bucket,
    serviceKey,
    anonKey,
    options: (extra = {}) => ({ url: service.url, serviceRoleKey: serviceKey, key: anonKey, bucket, ...extra }),
    async stop() {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
