import type { Principal } from '../../auth/principal.js';
import type { SegmentConfig } from '../../config/index.js';
import { StorageError } from '../../core/errors.js';
import type { ServiceContext } from '../context.js';
import { bucketExists, bucketNotEmpty, bucketNotFound, segmentsAreConfigured } from './errors.js';
import { bucketOf } from './objects.js';

/**
 * Supabase buckets are bucketgate's segments. Their rules (public, size limit, MIME types) come
 * from configuration, so the API reports them faithfully and refuses to change them at run time:
 * a change the next restart would undo, or one the Policy would not see, is worse than a clear no.
 * Creating an existing bucket answers Supabase's own "already exists", so setup scripts stay idempotent.
 */
export interface SupabaseBucket {
  id: string;
  name: string;
  owner: string;
  public: boolean;
  type: 'STANDARD';
  file_size_limit: number | null;
  allowed_mime_types: string[] | null;
  created_at: string;
  updated_at: string;
}

/** Segments have no creation time of their own: they exist from the moment the service loads its configuration. */
const LOADED_AT = new Date().toISOString();

export function toSupabaseBucket(segment: SegmentConfig): SupabaseBucket {
  return {
    id: segment.name,
    name: segment.name,
    owner: '',
    public: segment.public,
    type: 'STANDARD',
    file_size_limit: segment.maxBytes,
    allowed_mime_types: segment.allowedTypes,
    created_at: LOADED_AT,
    updated_at: LOADED_AT,
  };
}

/** Anonymous callers see public buckets only; signed-in callers see every bucket's rules. */
function visible(principal: Principal, segment: SegmentConfig): boolean {
  return principal.role !== 'anon' || segment.public;
}

function assertOperator(principal: Principal, what: string): void {
  if (principal.role === 'service_role') return;
  throw new StorageError(principal.role === 'anon' ? 'Unauthenticated' : 'Forbidden', `${what} needs the service_role key`);
}

export interface ListBucketsOptions {
  limit?: number;
  offset?: number;
  sortColumn?: 'id' | 'name' | 'created_at' | 'updated_at';
  sortOrder?: 'asc' | 'desc';
  search?: string;
}

export function listBuckets(ctx: ServiceContext, principal: Principal, opts: ListBucketsOptions = {}): SupabaseBucket[] {
  const search = opts.search?.toLowerCase();
  const buckets = ctx.config.segments
    .filter((s) => visible(principal, s) && (!search || s.name.toLowerCase().includes(search)))
    .map(toSupabaseBucket);
  // Creation times are all equal, so every sort column orders by name.
  buckets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (opts.sortOrder === 'desc') buckets.reverse();
  const offset = opts.offset ?? 0;
  return buckets.slice(offset, opts.limit === undefined ? undefined : offset + opts.limit);
}

export function getBucket(ctx: ServiceContext, principal: Principal, id: string): SupabaseBucket {
  const segment = bucketOf(ctx, id);
  if (!visible(principal, segment)) throw bucketNotFound();
  return toSupabaseBucket(segment);
}

export interface BucketSettings {
  public?: boolean;
  file_size_limit?: number | string | null;
  allowed_mime_types?: string[] | null;
}

/** Supabase's `file_size_limit` accepts bytes or strings such as `20MB`. */
export function parseSizeLimit(raw: number | string | null | undefined): number | null | undefined {
  if (raw === undefined || raw === null) return raw;
  if (typeof raw === 'number') return raw;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$/i.exec(raw);
  if (!match) throw new StorageError('InvalidArgument', 'Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B');
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(match[2] ?? 'B').toUpperCase() as 'B'];
  return Math.floor(Number(match[1]) * unit);
}

/** True when every setting given matches what the segment already has. */
function matches(segment: SegmentConfig, settings: BucketSettings): boolean {
  if (settings.public !== undefined && settings.public !== segment.public) return false;
  const limit = parseSizeLimit(settings.file_size_limit);
  if (limit !== undefined && limit !== null && limit !== segment.maxBytes) return false;
  if (settings.allowed_mime_types !== undefined) {
    const wanted = settings.allowed_mime_types && settings.allowed_mime_types.length > 0 ? [...settings.allowed_mime_types].sort() : null;
    const have = segment.allowedTypes ? [...segment.allowedTypes].sort() : null;
    if (JSON.stringify(wanted) !== JSON.stringify(have)) return false;
  }
  return true;
}

export function createBucket(ctx: ServiceContext, principal: Principal, id: string, _settings: BucketSettings): never {
  assertOperator(principal, 'creating a bucket');
  if (ctx.config.segments.some((s) => s.name === id)) throw bucketExists(id);
  throw segmentsAreConfigured(`cannot create bucket "${id}"`);
}

/** Succeeds only when nothing would change; anything else is a configuration change. */
export function updateBucket(ctx: ServiceContext, principal: Principal, id: string, settings: BucketSettings): void {
  assertOperator(principal, 'updating a bucket');
  const segment = bucketOf(ctx, id);
  if (!matches(segment, settings)) throw segmentsAreConfigured(`cannot change bucket "${id}"`);
}

/** Deletes every object of the bucket, a page at a time. */
export async function emptyBucket(ctx: ServiceContext, principal: Principal, id: string): Promise<number> {
  assertOperator(principal, 'emptying a bucket');
  const segment = bucketOf(ctx, id);
  let removed = 0;
  for (;;) {
    const page = await ctx.backend.list(`${segment.name}/`, { limit: 1000 });
    if (page.objects.length === 0) return removed;
    const keys = page.objects.map((o) => o.key);
    const result = await ctx.backend.deleteMany(keys);
    if (result.errors.length > 0) {
      const first = result.errors[0]!;
      throw new StorageError('BackendUnavailable', `could not delete ${result.errors.length} objects (first: ${first.key}: ${first.message})`);
    }
    for (const key of result.deleted) await ctx.catalog.deleteByKey(key);
    removed += result.deleted.length;
  }
}

export async function deleteBucket(ctx: ServiceContext, principal: Principal, id: string): Promise<never> {
  assertOperator(principal, 'deleting a bucket');
  const segment = bucketOf(ctx, id);
  const page = await ctx.backend.list(`${segment.name}/`, { limit: 1 });
  if (page.objects.length > 0) throw bucketNotEmpty();
  throw segmentsAreConfigured(`cannot delete bucket "${id}"`);
}
