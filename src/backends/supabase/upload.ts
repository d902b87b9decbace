import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ObjectInfo } from '../../core/types.js';
import { chunksOf, readUpTo, verify } from './body.js';
import { type SupabaseClient, encodeName } from './client.js';
import { type ObjectRow, encodeUserMetadata, infoFromJson, quoteEtag } from './metadata.js';
import { tusUpload } from './tus-client.js';

/**
 * A put in two steps, so the object appears whole, with its checksum, or not at all:
 *  1. the body goes to a fresh staging name (one request up to the threshold, TUS chunks
 *     above it), measured and verified on the way; a body that fails never completes;
 *  2. a server-side copy puts the staged bytes at the key together with the user metadata
 *     and the SHA-256 now known (create-only when asked: Supabase refuses an existing target
 *     atomically), and its answer carries the ETag. The staging object is then removed.
 * A crash between the steps leaves only a staging object, never a wrong or partial one;
 * `sweepStaging` clears those.
 *
 * Supabase copies with one S3 CopyObject, which stops at 5 GiB: a body declared larger goes
 * straight to its key through TUS (still whole or not at all), its checksum then unrecorded.
 */
export const STAGING_FOLDER = '.bucketgate-staging';
export const COPY_LIMIT_BYTES = 5 * 1024 ** 3;

export interface UploadContext {
  client: SupabaseClient;
  bucket: string;
  thresholdBytes: number;
  chunkBytes: number;
  /** Bodies declared larger than this skip staging (Supabase's copy limit). */
  copyLimitBytes: number;
}

export interface UploadRequest {
  key: string;
  body: Readable;
  contentType: string;
  cacheControl: string;
  metadata: Record<string, string>;
  createOnly: boolean;
  maxBytes?: number;
  contentLength?: number;
  sha256?: string;
  signal?: AbortSignal;
}

export async function uploadObject(ctx: UploadContext, req: UploadRequest): Promise<ObjectInfo> {
  if (req.contentLength !== undefined && req.contentLength > ctx.copyLimitBytes) return uploadDirect(ctx, req);
  const { client, bucket } = ctx;
  // One folder per upload: concurrent uploads never add to and prune the same folder.
  const staging = `${STAGING_FOLDER}/${randomUUID()}/body`;
  const verified = verify(req.body, req);
  const source = verified[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let sent = false;
  try {
    const start = await readUpTo(source, ctx.thresholdBytes);
    sent = true;
    if (start.done) {
      await client.send('POST', `/object/${encodeName(bucket)}/${encodeName(staging)}`, 'upload', {
        headers: { 'content-type': req.contentType, 'cache-control': req.cacheControl, 'x-upsert': 'false' },
        body: Buffer.concat(start.buffers),
        signal: req.signal,
        stream: true,
      });
    } else {
      await tusUpload(client, {
        bucket,
        name: staging,
        contentType: req.contentType,
        cacheControl: req.cacheControl,
        upsert: false,
        length: req.contentLength,
        chunks: chunksOf(start.buffers, source, ctx.chunkBytes),
        signal: req.signal,
      });
    }
    const sha256 = verified.sha256();
    const row = await client.json<ObjectRow>('POST', '/object/copy', 'upload commit', {
      headers: { 'x-upsert': String(!req.createOnly), 'x-metadata': encodeUserMetadata(req.metadata, sha256) },
      json: { bucketId: bucket, sourceKey: staging, destinationKey: req.key, copyMetadata: false, metadata: { mimetype: req.contentType, cacheControl: req.cacheControl } },
    });
    const etag = row.metadata?.eTag ?? (await client.json<{ etag?: string }>('GET', `/object/info/authenticated/${encodeName(bucket)}/${encodeName(req.key)}`, 'info')).etag;
    return {
      key: req.key,
      size: verified.bytes,
      etag: quoteEtag(etag),
      sha256,
      contentType: req.contentType,
      lastModified: new Date(row.metadata?.lastModified ?? row.updated_at ?? Date.now()),
      metadata: { ...req.metadata },
    };
  } catch (err) {
    verified.destroy();
    throw err;
  } finally {
    if (sent) await removeQuietly(client, bucket, [staging]);
  }
}

/** Straight to the key through TUS; the user metadata travels with the upload, the checksum cannot. */
async function uploadDirect(ctx: UploadContext, req: UploadRequest): Promise<ObjectInfo> {
  const verified = verify(req.body, req);
  const source = verified[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    await tusUpload(ctx.client, {
      bucket: ctx.bucket,
      name: req.key,
      contentType: req.contentType,
      cacheControl: req.cacheControl,
      metadata: req.metadata,
      upsert: !req.createOnly,
      length: req.contentLength,
      chunks: chunksOf([], source, ctx.chunkBytes),
      signal: req.signal,
    });
  } catch (err) {
    verified.destroy();
    throw err;
  }
  return { ...(await infoOf(ctx.client, ctx.bucket, req.key)), sha256: verified.sha256() };
}

async function removeQuietly(client: SupabaseClient, bucket: string, names: string[]): Promise<void> {
  await client.send('DELETE', `/object/${encodeName(bucket)}`, 'remove staging', { json: { prefixes: names } }).catch(() => undefined);
}

/** Removes staging objects older than `olderThanMs` that a crash left behind; returns how many. */
export async function sweepStaging(client: SupabaseClient, bucket: string, olderThanMs = 24 * 3600 * 1000): Promise<number> {
  let removed = 0;
  let cursor: string | undefined;
  do {
    const page = await client.json<{ hasNext?: boolean; nextCursor?: string; objects?: ObjectRow[] }>('POST', `/object/list-v2/${encodeName(bucket)}`, 'list staging', {
      json: { prefix: `${STAGING_FOLDER}/`, limit: 1000, ...(cursor ? { cursor } : {}) },
    });
    const stale = (page.objects ?? [])
      .filter((r) => r.name && Date.now() - new Date(r.updated_at ?? r.created_at ?? 0).getTime() > olderThanMs)
      .map((r) => r.name!);
    if (stale.length > 0) await client.send('DELETE', `/object/${encodeName(bucket)}`, 'remove staging', { json: { prefixes: stale } });
    removed += stale.length;
    cursor = page.hasNext ? page.nextCursor : undefined;
  } while (cursor);
  return removed;
}

/** `info` of a key that must exist (used after a server-side copy answered without metadata). */
export async function infoOf(client: SupabaseClient, bucket: string, key: string): Promise<ObjectInfo> {
  return infoFromJson(key, await client.json('GET', `/object/info/authenticated/${encodeName(bucket)}/${encodeName(key)}`, 'info'));
}
