import type { Readable } from 'node:stream';
import type { Principal } from '../../auth/principal.js';
import type { CatalogObject } from '../../catalog/types.js';
import { type SegmentConfig, typeAllowed } from '../../config/index.js';
import { StorageError, isStorageError } from '../../core/errors.js';
import type { ParsedKey } from '../../core/keys.js';
import type { ObjectInfo } from '../../core/types.js';
import { normalizeContentType } from '../content-type.js';
import type { ServiceContext } from '../context.js';
import { checkStoredContent, guardContent } from '../sniff.js';
import { bucketNotFound, objectNotFound } from './errors.js';
import { type UserMetadata, decodeMetadata, encodeMetadata } from './metadata.js';

/**
 * Objects as the Supabase-compatible API sees them: a Supabase bucket is a bucketgate segment
 * and an object's name is its key after the segment. Every call checks the service's Policy,
 * and answers a caller who may not read an object as Supabase's RLS does: "Object not found".
 */

/** Supabase's `storage.objects` row as its API returns it. */
export interface SupabaseObject {
  id: string;
  name: string;
  bucket_id: string;
  owner: string | null;
  owner_id: string | null;
  version: string;
  created_at: string;
  updated_at: string;
  last_accessed_at: string;
  metadata: SystemMetadata;
  user_metadata: UserMetadata;
}

export interface SystemMetadata {
  eTag: string;
  size: number;
  mimetype: string;
  cacheControl: string;
  lastModified: string;
  contentLength: number;
  httpStatusCode: number;
}

export interface Located {
  segment: SegmentConfig;
  parsed: ParsedKey;
}

export function bucketOf(ctx: ServiceContext, name: unknown): SegmentConfig {
  const segment = ctx.config.segments.find((s) => s.name === name);
  if (!segment) throw bucketNotFound();
  return segment;
}

export function locate(ctx: ServiceContext, bucket: string, name: string): Located {
  const segment = bucketOf(ctx, bucket);
  return { segment, parsed: ctx.keys.join(segment.name, name) };
}

/** Anonymous callers of a private bucket learn nothing about it; others are told the object is not there. */
export function assertReadable(ctx: ServiceContext, principal: Principal, parsed: ParsedKey): void {
  if (ctx.policy.can(principal, 'read', parsed)) return;
  if (principal.role === 'anon' && !ctx.policy.isPublic(parsed.segment)) throw bucketNotFound();
  throw objectNotFound();
}

export async function headObject(ctx: ServiceContext, key: string): Promise<ObjectInfo> {
  try {
    return await ctx.backend.head(key);
  } catch (err) {
    if (isStorageError(err, 'NotFound')) throw objectNotFound();
    throw err;
  }
}

/** The catalog row of a stored object; objects put there behind the service's back are indexed on sight, as `reindex` would. */
export async function indexed(ctx: ServiceContext, info: ObjectInfo, owner: string | null = null): Promise<CatalogObject> {
  const row = await ctx.catalog.getByKey(info.key);
  if (row) return row;
  return ctx.catalog.upsertObject({
    key: info.key,
    segment: info.key.split('/')[0]!,
    size: info.size,
    contentType: info.contentType,
    etag: info.etag,
    sha256: info.sha256 ?? null,
    owner,
    location: info.location ?? 'primary',
  });
}

export function systemMetadata(info: ObjectInfo): SystemMetadata {
  return {
    eTag: info.etag,
    size: info.size,
    mimetype: info.contentType,
    cacheControl: decodeMetadata(info.metadata).cacheControl ?? 'no-cache',
    lastModified: info.lastModified.toISOString(),
    contentLength: info.size,
    httpStatusCode: 200,
  };
}

/** `name` is what the caller asked about: the full name, or one relative to a listed folder. */
export function toSupabaseObject(name: string, info: ObjectInfo, row: CatalogObject): SupabaseObject {
  return {
    id: row.id,
    name,
    bucket_id: row.segment,
    owner: row.owner,
    owner_id: row.owner,
    version: info.etag.replace(/^(W\/)?"|"$/g, ''),
    created_at: row.createdAt.toISOString(),
    updated_at: info.lastModified.toISOString(),
    last_accessed_at: info.lastModified.toISOString(),
    metadata: systemMetadata(info),
    user_metadata: decodeMetadata(info.metadata).user,
  };
}

/** Keeps the client's parameters (`text/plain;charset=UTF-8`), as Supabase does, once the type itself is valid. */
export function checkedContentType(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return 'application/octet-stream';
  normalizeContentType(raw);
  // eslint-disable-next-line no-control-regex
  if (raw.length > 255 || /[\u0000-\u001f\u007f]/.test(raw)) throw new StorageError('InvalidArgument', 'content type is not a valid header value');
  return raw.trim();
}

function assertFits(segment: SegmentConfig, contentType: string, size: number | undefined): void {
  if (!typeAllowed(segment, contentType)) throw new StorageError('UnsupportedType', `mime type ${contentType} is not supported`);
  if (size !== undefined && size > segment.maxBytes) {
    throw new StorageError('TooLarge', `The object exceeded the maximum allowed size of ${segment.maxBytes} bytes`, { details: { limit: segment.maxBytes } });
  }
}

export interface WriteRequest {
  bucket: string;
  name: string;
  body: Readable;
  contentType?: string;
  cacheControl: string;
  userMetadata?: UserMetadata;
  upsert: boolean;
  /** Whose write it is for the Policy; undefined when a signed upload token already authorised it. */
  principal?: Principal;
  owner: string | null;
  contentLength?: number;
  signal?: AbortSignal;
}

/** Everything about a write that can be refused before the body is read. */
export function planWrite(ctx: ServiceContext, req: Omit<WriteRequest, 'body'>) {
  const { segment, parsed } = locate(ctx, req.bucket, req.name);
  if (req.principal) ctx.policy.assert(req.principal, 'write', parsed);
  const contentType = checkedContentType(req.contentType);
  assertFits(segment, contentType, req.contentLength);
  const metadata = encodeMetadata(req.userMetadata, req.cacheControl);
  return { segment, parsed, contentType, metadata };
}

/** Streams a body into the backend (create-only unless upsert) and records it in the catalog. */
export async function writeObject(ctx: ServiceContext, req: WriteRequest): Promise<{ info: ObjectInfo; row: CatalogObject; parsed: ParsedKey }> {
  const plan = planWrite(ctx, req);
  const info = await ctx.backend.put(plan.parsed.key, guardContent(plan.segment, plan.contentType, req.body), {
    contentType: plan.contentType,
    cacheControl: req.cacheControl,
    metadata: plan.metadata,
    maxBytes: plan.segment.maxBytes,
    contentLength: req.contentLength,
    ifNoneMatch: req.upsert ? undefined : '*',
    signal: req.signal,
  });
  const row = await ctx.catalog.upsertObject({
    key: info.key,
    segment: plan.segment.name,
    size: info.size,
    contentType: info.contentType,
    etag: info.etag,
    sha256: info.sha256 ?? null,
    owner: req.owner,
    location: info.location ?? 'primary',
  });
  return { info, row, parsed: plan.parsed };
}

export async function statObject(ctx: ServiceContext, principal: Principal, bucket: string, name: string) {
  const { parsed } = locate(ctx, bucket, name);
  assertReadable(ctx, principal, parsed);
  const info = await headObject(ctx, parsed.key);
  return { parsed, info, row: await indexed(ctx, info) };
}

/** Supabase's single delete: a missing object is NotFound; one the caller may not delete is refused. */
export async function deleteObject(ctx: ServiceContext, principal: Principal, bucket: string, name: string): Promise<void> {
  const { parsed } = locate(ctx, bucket, name);
  assertReadable(ctx, principal, parsed);
  await headObject(ctx, parsed.key);
  ctx.policy.assert(principal, 'delete', parsed);
  await ctx.backend.delete(parsed.key);
  await ctx.catalog.deleteByKey(parsed.key);
}

export const MAX_OBJECTS_PER_REQUEST = 1000;

/** Supabase's bulk remove: returns the rows it deleted; names that are invalid, missing or not the caller's are skipped. */
export async function removeObjects(ctx: ServiceContext, principal: Principal, bucket: string, names: readonly string[]): Promise<SupabaseObject[]> {
  bucketOf(ctx, bucket);
  if (names.length > MAX_OBJECTS_PER_REQUEST) throw new StorageError('InvalidArgument', `at most ${MAX_OBJECTS_PER_REQUEST} objects per request`);
  const removed: SupabaseObject[] = [];
  for (const name of new Set(names)) {
    let parsed: ParsedKey;
    try {
      parsed = ctx.keys.join(bucket, name);
    } catch {
      continue;
    }
    if (!ctx.policy.can(principal, 'delete', parsed)) continue;
    let info: ObjectInfo;
    try {
      info = await ctx.backend.head(parsed.key);
    } catch (err) {
      if (isStorageError(err, 'NotFound')) continue;
      throw err;
    }
    const row = await indexed(ctx, info);
    await ctx.backend.delete(parsed.key);
    await ctx.catalog.deleteByKey(parsed.key);
    removed.push(toSupabaseObject(name, info, row));
  }
  return removed;
}

export interface CopyRequest {
  bucket: string;
  from: string;
  toBucket?: string;
  to: string;
  upsert: boolean;
  /** Present when the copy takes new metadata instead of the source's (`copyMetadata: false`). */
  replace?: { userMetadata?: UserMetadata; contentType?: string; cacheControl?: string };
}

/** Supabase's copy: create-only unless `x-upsert`, the source's metadata unless told otherwise. */
export async function copyObject(ctx: ServiceContext, principal: Principal, req: CopyRequest): Promise<{ info: ObjectInfo; row: CatalogObject; name: string }> {
  const source = locate(ctx, req.bucket, req.from);
  assertReadable(ctx, principal, source.parsed);
  const target = locate(ctx, req.toBucket ?? req.bucket, req.to);
  ctx.policy.assert(principal, 'write', target.parsed);
  const sourceInfo = await headObject(ctx, source.parsed.key);
  const ifNoneMatch = req.upsert ? undefined : ('*' as const);
  let info: ObjectInfo;
  if (req.replace) {
    const contentType = req.replace.contentType !== undefined ? checkedContentType(req.replace.contentType) : sourceInfo.contentType;
    assertFits(target.segment, contentType, sourceInfo.size);
    const kept = decodeMetadata(sourceInfo.metadata);
    const cacheControl = req.replace.cacheControl ?? kept.cacheControl;
    const metadata = encodeMetadata(req.replace.userMetadata ?? {}, cacheControl);
    // The backend copies metadata verbatim, so new metadata means streaming the bytes across (checked by their SHA-256).
    const { body, info: read } = await ctx.backend.get(source.parsed.key);
    info = await ctx.backend.put(target.parsed.key, guardContent(target.segment, contentType, body), { contentType, cacheControl, metadata, ifNoneMatch, contentLength: read.size, sha256: read.sha256 });
  } else {
    assertFits(target.segment, sourceInfo.contentType, sourceInfo.size);
    await checkStoredContent(ctx.backend, target.segment, sourceInfo);
    info = await ctx.backend.copy(source.parsed.key, target.parsed.key, { ifNoneMatch });
  }
  const row = await ctx.catalog.upsertObject({
    key: info.key,
    segment: target.segment.name,
    size: info.size,
    contentType: info.contentType,
    etag: info.etag,
    sha256: info.sha256 ?? null,
    owner: principal.sub ?? null,
    location: info.location ?? 'primary',
  });
  return { info, row, name: target.parsed.path };
}

/** Supabase's move: the target must not exist yet; the source needs the caller's delete right. */
export async function moveObject(ctx: ServiceContext, principal: Principal, req: Omit<CopyRequest, 'upsert' | 'replace'>): Promise<{ info: ObjectInfo; row: CatalogObject }> {
  const source = locate(ctx, req.bucket, req.from);
  assertReadable(ctx, principal, source.parsed);
  ctx.policy.assert(principal, 'delete', source.parsed);
  const target = locate(ctx, req.toBucket ?? req.bucket, req.to);
  ctx.policy.assert(principal, 'write', target.parsed);
  const sourceInfo = await headObject(ctx, source.parsed.key);
  // Onto itself: nothing to move (as Supabase answers), the object stays as it is.
  if (source.parsed.key === target.parsed.key) {
    const row = await ctx.catalog.getByKey(source.parsed.key);
    if (row) return { info: sourceInfo, row };
  }
  assertFits(target.segment, sourceInfo.contentType, sourceInfo.size);
  await checkStoredContent(ctx.backend, target.segment, sourceInfo);
  let info: ObjectInfo;
  try {
    info = await ctx.backend.move(source.parsed.key, target.parsed.key, { ifNoneMatch: '*' });
  } catch (err) {
    if (isStorageError(err, 'NotFound')) throw objectNotFound();
    throw err;
  }
  const previous = await ctx.catalog.getByKey(source.parsed.key);
  await ctx.catalog.deleteByKey(source.parsed.key);
  const row = await ctx.catalog.upsertObject({
    key: info.key,
    segment: target.segment.name,
    size: info.size,
    contentType: info.contentType,
    etag: info.etag,
    sha256: info.sha256 ?? null,
    owner: previous?.owner ?? principal.sub ?? null,
    location: info.location ?? 'primary',
  });
  return { info, row };
}
