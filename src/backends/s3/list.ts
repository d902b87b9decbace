import { s3sdk } from './sdk.js';
import { encodeCursor } from '../../core/cursor.js';
import { StorageError, isStorageError } from '../../core/errors.js';
import type { ListPage, ObjectInfo } from '../../core/types.js';
import type { S3Context } from './context.js';
import { fromS3Error, s3Status } from './errors.js';
import { DEFAULT_CONTENT_TYPE, etagOf } from './metadata.js';
import { mapPooled } from './pool.js';
import { headObject } from './read.js';

const { ListObjectsV2Command } = s3sdk;

/** Sorts after every string that starts with the same prefix (no UTF-8 character is above it). */
const HIGHEST = '\u{10FFFF}';
/** Starts a cursor that carries the store's continuation token (no key holds a NUL). */
const TOKEN_MARK = '\u0000';
/** decodeCursor's limit on an encoded cursor. */
const MAX_CURSOR_CHARS = 2048;

/**
 * Our cursor: the page's last item, which any backend can resume after (StartAfter), plus the
 * store's continuation token when it fits. The token is what S3 stores resume from best:
 * MinIO answers some StartAfter values inside a folder with nothing (seen with a sibling
 * folder such as `a-b/` next to `a/`), while its own tokens page correctly.
 */
export function makeCursor(last: string, token: string | undefined): string {
  if (token) {
    const withToken = encodeCursor(`${TOKEN_MARK}${last}${TOKEN_MARK}${token}`);
    if (withToken.length <= MAX_CURSOR_CHARS) return withToken;
  }
  return encodeCursor(last);
}

/** The decoded cursor → where to resume: after a key (or prefix), and the store's token if there is one. */
export function readCursor(after: string | undefined): { after: string | undefined; token: string | undefined } {
  if (after === undefined || !after.startsWith(TOKEN_MARK)) return { after, token: undefined };
  const end = after.indexOf(TOKEN_MARK, 1);
  if (end < 0) return { after: after.slice(1), token: undefined };
  return { after: after.slice(1, end), token: after.slice(end + 1) || undefined };
}

export interface ListRequest {
  prefix: string;
  delimiter: string | undefined;
  /** The decoded cursor: the last key or common prefix of the previous page (see makeCursor). */
  after: string | undefined;
  limit: number;
  /** false: objects as the listing gives them, no HEAD each (ListOptions.describe). */
  describe: boolean;
}

/**
 * Where S3 should start. A cursor that falls inside a common prefix (the last page ended on
 * that prefix, or a hand-made cursor names a key within it) skips the whole prefix, as
 * S3's own continuation tokens do; StartAfter alone would list the prefix again.
 */
export function startAfterFor(req: Pick<ListRequest, 'prefix' | 'delimiter' | 'after'>): string | undefined {
  const { after, prefix, delimiter } = req;
  if (after === undefined) return undefined;
  if (delimiter !== undefined && after.startsWith(prefix)) {
    const at = after.indexOf(delimiter, prefix.length);
    if (at >= 0) return `${after.slice(0, at + delimiter.length)}${HIGHEST}`;
  }
  return after;
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** An object as ListObjectsV2 describes it (ListOptions.describe: false). */
function asListed(key: string, o: { Size?: number; ETag?: string; LastModified?: Date }): ObjectInfo {
  return { key, size: o.Size ?? 0, etag: etagOf(undefined, o.ETag), contentType: DEFAULT_CONTENT_TYPE, lastModified: o.LastModified ?? new Date(0), metadata: {} };
}

/**
 * One page of ListObjectsV2. Keys this service could not address (foreign names, our own
 * `.bg-` temp names, non-NFC spellings) are left out; each listed object is described by a
 * HEAD, as `head` would (content type, metadata, SHA-256 are not in a listing), unless the
 * caller asked for the listing only (`describe: false`).
 */
export async function listPage(ctx: S3Context, req: ListRequest): Promise<ListPage> {
  const { after, token } = readCursor(req.after);
  const send = (resume: { StartAfter?: string; ContinuationToken?: string }) =>
    ctx.client.send(
      new ListObjectsV2Command({
        Bucket: ctx.bucket,
        ...(req.prefix ? { Prefix: req.prefix } : {}),
        ...(req.delimiter ? { Delimiter: req.delimiter } : {}),
        ...resume,
        MaxKeys: req.limit,
      }),
    );
  const startAfter = startAfterFor({ ...req, after });
  const byKey = startAfter !== undefined ? { StartAfter: startAfter } : {};
  let out;
  try {
    try {
      out = await send(token ? { ContinuationToken: token } : byKey);
    } catch (err) {
      // A token the store no longer knows (expired, or from another listing): resume by key instead.
      if (!token || s3Status(err) !== 400) throw err;
      out = await send(byKey);
    }
  } catch (err) {
    throw fromS3Error(err, { op: 'list', subject: req.prefix || '(all)', bucket: ctx.bucket });
  }
  const listed = new Map((out.Contents ?? []).flatMap((o) => (o.Key !== undefined ? [[o.Key, o] as const] : [])));
  const rawKeys = [...listed.keys()];
  const rawPrefixes = (out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix !== undefined ? [p.Prefix] : []));
  const keys = rawKeys.filter((key) => addressable(ctx, key));
  const prefixes = rawPrefixes.filter((p) => addressablePrefix(ctx, p)).sort(compareUtf8);
  const described = await mapPooled(keys, ctx.opts.describeConcurrency, async (key) => {
    if (!req.describe) return asListed(key, listed.get(key)!);
    try {
      return await headObject(ctx, key);
    } catch (err) {
      if (isStorageError(err, 'NotFound')) return undefined; // deleted since it was listed
      throw err;
    }
  });
  const objects = described.filter((o): o is ObjectInfo => o !== undefined).sort((a, b) => compareUtf8(a.key, b.key));
  const page: ListPage = { objects, prefixes };
  if (out.IsTruncated) {
    // The cursor is the page's last item as S3 listed it, filtered or not, so paging always moves on.
    const last = [...rawKeys, ...rawPrefixes].sort(compareUtf8).pop();
    if (last === undefined) throw new StorageError('BackendUnavailable', `list ${req.prefix || '(all)'}: the store said there is more but listed nothing`);
    page.cursor = makeCursor(last, out.NextContinuationToken);
  }
  return page;
}

function addressable(ctx: S3Context, key: string): boolean {
  try {
    return ctx.opts.keys.parse(key).key === key;
  } catch {
    return false;
  }
}

function addressablePrefix(ctx: S3Context, prefix: string): boolean {
  try {
    return ctx.opts.keys.parsePrefix(prefix) === prefix;
  } catch {
    return false;
  }
}
