import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StorageError, isStorageError } from '../core/errors.js';
import { isInlineSafe } from '../service/content-type.js';
import { findBySignature } from '../service/signed-links.js';
import type { Storage } from '../service/storage.js';
import { etagMatches, ifRangeHolds, notModifiedSince, parseRangeHeader } from './range.js';

export type ServeMode = 'download' | 'stream';
export type SignedLinkQuery = { expires?: number; signature?: string };

function contentDisposition(kind: 'attachment' | 'inline', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${rfc8187(filename)}`;
}

/** RFC 8187 value-chars: encodeURIComponent leaves ' ( ) * ! unescaped, which attr-char does not allow. */
function rfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function cdnUrl(domain: string, key: string): string {
  return `https://${domain}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * One object over HTTP: conditional requests from the catalog's record (no backend call
 * for a 304), then the body straight from the backend (or, for a small object read before,
 * from memory: service/small-objects.ts), ranged when asked. `download` is an
 * attachment; `stream` is inline for media players. Active content is never inline.
 */
export async function serveObject(storage: Storage, request: FastifyRequest<{ Params: { id: string }; Querystring: SignedLinkQuery }>, reply: FastifyReply, mode: ServeMode) {
  const { expires, signature } = request.query ?? {};
  // A signed link authorises reading this one object, whoever presents it.
  const { row, parsed } =
    expires !== undefined || signature !== undefined
      ? await findBySignature(storage.ctx, request.params.id, expires, signature)
      : await storage.findById(request.params.id, request.principal);
  const segment = storage.config.segments.find((s) => s.name === parsed.segment);
  const isPublic = segment?.public === true;
  reply.header('cache-control', isPublic ? 'public, max-age=86400' : 'private, no-store');

  if (mode === 'download' && isPublic && storage.config.cloudfrontDomain) {
    return reply.redirect(cdnUrl(storage.config.cloudfrontDomain, row.key), 302);
  }

  const ifNoneMatch = request.headers['if-none-match'];
  const ifModifiedSince = request.headers['if-modified-since'];
  if ((ifNoneMatch !== undefined && etagMatches(ifNoneMatch, row.etag)) || (ifNoneMatch === undefined && ifModifiedSince !== undefined && notModifiedSince(ifModifiedSince, row.updatedAt))) {
    // An empty stream, not an empty send(): for HEAD, Fastify would add Content-Length: 0, which a
    // cache may take as the object's new length (RFC 9110 §15.4.5).
    return reply.code(304).header('etag', row.etag).header('last-modified', row.updatedAt.toUTCString()).send(Readable.from([]));
  }

  const filename = parsed.parts[parsed.parts.length - 1]!;
  // Inline only for passive media and plain text; anything a browser might run is an attachment in a sandbox.
  const inline = mode === 'stream' && isInlineSafe(row.contentType);
  reply.header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', filename));
  if (!isInlineSafe(row.contentType)) reply.header('content-security-policy', "sandbox; default-src 'none'");
  reply.header('accept-ranges', 'bytes');

  if (request.method === 'HEAD') {
    return reply
      .header('content-type', row.contentType)
      .header('content-length', String(row.size))
      .header('etag', row.etag)
      .header('last-modified', row.updatedAt.toUTCString())
      .send(Readable.from([])); // a stream keeps our Content-Length; Node sends no body for HEAD
  }

  let range = parseRangeHeader(request.headers.range);
  if (range && !ifRangeHolds(request.headers['if-range'] as string | undefined, row.etag)) range = undefined;
  let result;
  try {
    result = await storage.openForServing(row, range);
  } catch (err) {
    if (isStorageError(err, 'RangeNotSatisfiable')) {
      throw new StorageError('RangeNotSatisfiable', err.message, { details: { size: typeof err.details?.size === 'number' ? err.details.size : row.size } });
    }
    throw err;
  }
  const { info, body } = result;
  reply
    .header('content-type', info.contentType)
    .header('etag', info.etag)
    .header('last-modified', row.updatedAt.toUTCString());
  if (result.range) {
    const { start, end } = result.range;
    reply.code(206).header('content-range', `bytes ${start}-${end}/${info.size}`).header('content-length', String(end - start + 1));
  } else {
    reply.header('content-length', String(info.size));
  }
  return reply.send(body);
}
