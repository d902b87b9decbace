import type { ByteRange } from '../core/types.js';

/**
 * Parses a `Range` header the way S3 does: one `bytes=` range is honoured; more than one,
 * or a header that is not a byte range at all, is ignored (whole object, 200).
 */
export function parseRangeHeader(header: string | undefined): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') return { suffix: safe(last) };
  const start = safe(first);
  return last === '' ? { start } : { start, end: safe(last) };
}

function safe(digits: string): number {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER;
}

/** Entity tags in an `If-None-Match` / `If-Match` list match ours (weak comparison). */
export function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => bare(t) === bare(etag));
}

/** HTTP dates have one-second precision. */
export function notModifiedSince(header: string, lastModified: Date): boolean {
  const since = Date.parse(header);
  return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}

/**
 * `If-Range` holds only when it names our current ETag, strong. A date never holds: dates have
 * whole seconds, so an object rewritten within the second a client read it keeps the same
 * Last-Modified, and a range of the new bytes would be spliced onto the old ones (RFC 9110 lets a
 * server treat such a date as weak). The client then gets the whole object, which is always right.
 */
export function ifRangeHolds(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  const value = header.trim();
  return value.startsWith('"') && value === etag;
}
