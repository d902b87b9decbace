import type { FastifyReply, FastifyRequest } from 'fastify';
import { StorageError, isStorageError } from '../../../core/errors.js';
import type { ObjectInfo } from '../../../core/types.js';
import { isInlineSafe } from '../../../service/content-type.js';
import type { ServiceContext } from '../../../service/context.js';
import { decodeMetadata } from '../../../service/supabase/metadata.js';
import { objectNotFound } from '../../../service/supabase/errors.js';
import { headObject } from '../../../service/supabase/objects.js';
import { etagMatches, parseRangeHeader } from '../../range.js';

export interface ServeOptions {
  /** `?download` (attachment, optionally with a file name). */
  download?: string;
  /** Signed URLs answer with `Expires` instead of the object's Cache-Control. */
  expires?: Date;
}

function headers(reply: FastifyReply, info: ObjectInfo, opts: ServeOptions): void {
  reply
    .header('accept-ranges', 'bytes')
    .header('content-type', info.contentType)
    .header('etag', info.etag)
    .header('last-modified', info.lastModified.toUTCString())
    .header('x-robots-tag', 'none');
  if (opts.expires) reply.header('expires', opts.expires.toUTCString());
  else reply.header('cache-control', decodeMetadata(info.metadata).cacheControl ?? 'no-cache');
  // Uploaded HTML, SVG, XML or scripts must never run as our origin's page: a sandboxed attachment.
  const passive = isInlineSafe(info.contentType);
  if (!passive) reply.header('content-security-policy', "sandbox; default-src 'none'");
  if (opts.download === undefined && !passive) reply.header('content-disposition', 'attachment');
  if (opts.download !== undefined) {
    const name = encodeURIComponent(opts.download);
    reply.header('content-disposition', opts.download === '' ? 'attachment;' : `attachment; filename=${name}; filename*=UTF-8''${name}`);
  }
}

/** HEAD: the object's headers from its metadata, no body. */
export function serveHead(reply: FastifyReply, info: ObjectInfo, opts: ServeOptions = {}) {
  headers(reply, info, opts);
  return reply.header('content-length', String(info.size)).code(200).send();
}

/** GET: 304 on a matching If-None-Match, else the bytes (one range when asked) straight from the backend. */
export async function serveBody(ctx: ServiceContext, request: FastifyRequest, reply: FastifyReply, key: string, opts: ServeOptions = {}) {
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const current = await headObject(ctx, key);
    if (etagMatches(ifNoneMatch, current.etag)) return reply.code(304).header('etag', current.etag).send();
  }
  const range = parseRangeHeader(request.headers.range);
  let result;
  try {
    result = await ctx.backend.get(key, range ? { range } : {});
  } catch (err) {
    if (isStorageError(err, 'NotFound')) throw objectNotFound();
    if (isStorageError(err, 'RangeNotSatisfiable')) throw new StorageError('RangeNotSatisfiable', err.message, { details: err.details });
    throw err;
  }
  const { info, body } = result;
  headers(reply, info, opts);
  if (result.range) {
    const { start, end } = result.range;
    reply.code(206).header('content-range', `bytes ${start}-${end}/${info.size}`).header('content-length', String(end - start + 1));
  } else {
    reply.code(200).header('content-length', String(info.size));
  }
  return reply.send(body);
}

/** The JSON of `GET /object/info/…`. */
export function infoBody(bucket: string, name: string, info: ObjectInfo, row: { id: string; createdAt: Date }) {
  const { user, cacheControl } = decodeMetadata(info.metadata);
  return {
    id: row.id,
    name,
    version: info.etag.replace(/^(W\/)?"|"$/g, ''),
    bucket_id: bucket,
    size: info.size,
    content_type: info.contentType,
    cache_control: cacheControl ?? 'no-cache',
    etag: info.etag,
    metadata: user,
    last_modified: info.lastModified.toISOString(),
    created_at: row.createdAt.toISOString(),
  };
}
