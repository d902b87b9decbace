import { Readable } from 'node:stream';
import { type Principal, SERVICE } from '../auth/principal.js';
import type { CatalogObject } from '../catalog/types.js';
import { typeAllowed } from '../config/index.js';
import { StorageError } from '../core/errors.js';
import type { ParsedKey } from '../core/keys.js';
import type { ByteRange, GetResult } from '../core/types.js';
import { guessContentType, normalizeContentType } from './content-type.js';
import { SMALL_OBJECT_BYTES, type ServedObject, cacheable, fromMemory, readSmall } from './small-objects.js';
import { type ServiceContext, type StoredObject, segmentOf, toStored } from './context.js';
import { checkStoredContent, guardContent } from './sniff.js';

export interface UploadOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** A tighter limit than the segment's (e.g. from an upload token). */
  maxBytes?: number;
  contentLength?: number;
  sha256?: string;
  principal?: Principal;
  signal?: AbortSignal;
}

/** Checks everything about an upload that can be checked before a byte is read. */
export function planUpload(ctx: ServiceContext, segmentName: string, filename: string, opts: UploadOptions) {
  const principal = opts.principal ?? SERVICE;
  const segment = segmentOf(ctx, segmentName);
  const parsed = ctx.keys.join(segment.name, ctx.policy.uploadPath(principal, filename));
  ctx.policy.assert(principal, 'write', parsed);
  const contentType = normalizeContentType(opts.contentType ?? guessContentType(filename));
  if (!typeAllowed(segment, contentType)) {
    throw new StorageError('UnsupportedType', `${contentType} is not allowed in ${segment.name} (allowed: ${segment.allowedTypes?.join(', ')})`);
  }
  const maxBytes = Math.min(segment.maxBytes, opts.maxBytes ?? Number.POSITIVE_INFINITY);
  if (opts.contentLength !== undefined && opts.contentLength > maxBytes) {
    throw new StorageError('TooLarge', `${opts.contentLength} bytes is over the limit of ${maxBytes} for ${segment.name}`, { details: { limit: maxBytes } });
  }
  return { principal, segment, parsed, contentType, maxBytes };
}

/** Streams a body into the backend and records it in the catalog. */
export async function uploadStream(ctx: ServiceContext, segment: string, filename: string, body: Readable, opts: UploadOptions = {}): Promise<StoredObject> {
  let plan;
  try {
    plan = planUpload(ctx, segment, filename, opts);
  } catch (err) {
    body.resume(); // drain so a piped source does not hang
    throw err;
  }
  return storeBody(ctx, plan.parsed, body, { ...opts, contentType: plan.contentType, maxBytes: plan.maxBytes, owner: plan.principal.sub ?? null });
}

/** The write itself, for callers that already planned it (uploads with tokens). */
export async function storeBody(
  ctx: ServiceContext,
  parsed: ParsedKey,
  body: Readable,
  opts: UploadOptions & { contentType: string; maxBytes: number; owner: string | null },
): Promise<StoredObject> {
  const checked = guardContent(segmentOf(ctx, parsed.segment), opts.contentType, body);
  ctx.smallObjects?.drop(parsed.key); // the old content's memory (the new one has another SHA-256 anyway)
  const info = await ctx.backend.put(parsed.key, checked, {
    contentType: opts.contentType,
    maxBytes: opts.maxBytes,
    contentLength: opts.contentLength,
    sha256: opts.sha256,
    metadata: opts.metadata,
    signal: opts.signal,
  });
  const row = await ctx.catalog.upsertObject({
    key: info.key,
    segment: parsed.segment,
    size: info.size,
    contentType: info.contentType,
    etag: info.etag,
    sha256: info.sha256 ?? null,
    owner: opts.owner,
    location: info.location ?? 'primary',
  });
  return toStored(ctx, row);
}

export function toReadable(data: Buffer | Uint8Array | string | Readable): { body: Readable; length?: number } {
  if (data instanceof Readable) return { body: data };
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { body: Readable.from([buffer]), length: buffer.length };
}

/** Finds an object the principal may read, by id. */
export async function findReadable(ctx: ServiceContext, id: string, principal: Principal): Promise<{ row: CatalogObject; parsed: ParsedKey }> {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{10,64}$/.test(id)) throw new StorageError('NotFound', 'no such object');
  const row = await ctx.catalog.getById(id);
  if (!row) throw new StorageError('NotFound', 'no such object');
  const parsed = ctx.keys.parse(row.key);
  // Someone who may not read it learns nothing, not even that it exists.
  if (!ctx.policy.can(principal, 'read', parsed)) {
    throw principal.role === 'anon' ? new StorageError('Unauthenticated', 'sign in to read this object') : new StorageError('NotFound', 'no such object');
  }
  return { row, parsed };
}

export async function openObject(ctx: ServiceContext, key: string, range?: ByteRange): Promise<GetResult> {
  return ctx.backend.get(key, range ? { range } : {});
}

/**
 * The object a catalog row describes, to serve: a small one from memory when the cache holds
 * the content the row names (its SHA-256), else from the backend — and a small one read whole
 * is kept for next time, if it hashes to what the row says.
 */
export async function openForServing(ctx: ServiceContext, row: CatalogObject, range?: ByteRange): Promise<ServedObject> {
  const cache = ctx.smallObjects;
  if (!cache || !cacheable(row)) return openObject(ctx, row.key, range);
  const held = cache.get(row.key, row.sha256);
  if (held) return fromMemory(row, held, range);
  const result = await openObject(ctx, row.key, range);
  if (result.range || result.info.size > SMALL_OBJECT_BYTES || result.info.sha256 !== row.sha256) return result;
  const bytes = await readSmall(result.body, result.info.size);
  cache.put(row.key, row.sha256, bytes);
  return { info: result.info, body: bytes };
}

/** Deletes an object from the backend, then from the catalog. */
export async function deleteObject(ctx: ServiceContext, parsed: ParsedKey, principal: Principal): Promise<void> {
  ctx.policy.assert(principal, 'delete', parsed);
  ctx.smallObjects?.drop(parsed.key);
  await ctx.backend.delete(parsed.key);
  await ctx.catalog.deleteByKey(parsed.key);
}

/**
 * Copies an object to another key under the target segment's rules, as an upload there would
 * be: its type allowed (by declaration and by its first bytes), its size within the limit.
 */
export async function copyObject(ctx: ServiceContext, from: ParsedKey, to: ParsedKey, principal: Principal = SERVICE): Promise<StoredObject> {
  ctx.policy.assert(principal, 'read', from);
  ctx.policy.assert(principal, 'write', to);
  const segment = segmentOf(ctx, to.segment);
  const source = await ctx.backend.head(from.key);
  if (!typeAllowed(segment, source.contentType)) {
    throw new StorageError('UnsupportedType', `${source.contentType} is not allowed in ${segment.name} (allowed: ${segment.allowedTypes?.join(', ')})`);
  }
  if (source.size > segment.maxBytes) throw new StorageError('TooLarge', `${source.size} bytes is over the limit of ${segment.maxBytes} for ${segment.name}`, { details: { limit: segment.maxBytes } });
  await checkStoredContent(ctx.backend, segment, { key: from.key, size: source.size, contentType: source.contentType });
  ctx.smallObjects?.drop(to.key);
  const info = await ctx.backend.copy(from.key, to.key);
  const owner = (await ctx.catalog.getByKey(from.key))?.owner ?? principal.sub ?? null;
  const row = await ctx.catalog.upsertObject({ key: info.key, segment: segment.name, size: info.size, contentType: info.contentType, etag: info.etag, sha256: info.sha256 ?? null, owner, location: info.location ?? 'primary' });
  return toStored(ctx, row);
}

/** Lists a segment from the catalog, limited to what the principal may see. */
export async function listObjects(
  ctx: ServiceContext,
  segmentName: string,
  opts: { prefix?: string; cursor?: string; limit?: number; principal?: Principal },
): Promise<{ items: StoredObject[]; cursor?: string }> {
  const principal = opts.principal ?? SERVICE;
  const segment = segmentOf(ctx, segmentName);
  const visible = ctx.policy.visiblePrefix(principal, segment.name);
  if (visible === null) {
    throw principal.role === 'anon' ? new StorageError('Unauthenticated', `sign in to list ${segment.name}`) : new StorageError('Forbidden', `not allowed to list ${segment.name}`);
  }
  const asked = ctx.keys.prefixWithin(segment.name, opts.prefix ?? '');
  // The intersection of what was asked for and what is visible.
  let prefix: string;
  if (asked.startsWith(visible)) prefix = asked;
  else if (visible.startsWith(asked)) prefix = visible;
  else return { items: [] };
  const limit = opts.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new StorageError('InvalidArgument', 'limit must be an integer from 1 to 1000');
  const page = await ctx.catalog.list({ segment: segment.name, prefix: `${segment.name}/${prefix}`, cursor: opts.cursor, limit });
  return { items: page.items.map((row) => toStored(ctx, row)), cursor: page.cursor };
}
