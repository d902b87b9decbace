import { Readable, Transform, addAbortSignal } from 'node:stream';
import { s3sdk } from './sdk.js';
import { StorageError, isStorageError } from '../../core/errors.js';
import { rangeHeader, resolveRange } from '../../core/range.js';
import type { GetOptions, GetResult, ObjectInfo, ResolvedRange } from '../../core/types.js';
import type { S3Context } from './context.js';
import { fromS3Error } from './errors.js';
import { mayCarryChecksumTags, readChecksumTags } from './checksum-tags.js';
import { objectInfoFrom } from './metadata.js';
import { checkRangeShape } from './validate.js';

const { GetObjectCommand, HeadObjectCommand } = s3sdk;

/**
 * Adds the SHA-256 of a multipart upload of ours, kept in tags (see checksum-tags.ts): one
 * more small request, made by head and list only, for objects that may have them. The ETag
 * stays the store's, so GET (and every ranged GET of a video) needs no second request and
 * still agrees with head.
 */
async function withTaggedChecksum(ctx: S3Context, info: ObjectInfo, s3Etag: string | undefined, signal?: AbortSignal): Promise<ObjectInfo> {
  if (info.sha256 !== undefined || !mayCarryChecksumTags(s3Etag)) return info;
  const sha256 = await readChecksumTags(ctx, info.key, s3Etag as string, signal);
  return sha256 === undefined ? info : { ...info, sha256 };
}

export async function headObject(ctx: S3Context, key: string, signal?: AbortSignal): Promise<ObjectInfo> {
  let out;
  try {
    out = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }), { abortSignal: signal });
  } catch (err) {
    throw fromS3Error(err, { op: 'head', subject: key, bucket: ctx.bucket });
  }
  return withTaggedChecksum(ctx, objectInfoFrom(key, out, out.ContentLength ?? 0), out.ETag, signal);
}

/** `bytes 5-12/20` → the range and the whole size. */
function parseContentRange(value: string): { range: ResolvedRange; size: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) return undefined;
  return { range: { start: Number(m[1]), end: Number(m[2]) }, size: Number(m[3]) };
}

/** Keeps bytes start..end of a stream: only for a server that ignored the Range header. */
function sliceStream(start: number, end: number): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const from = Math.max(0, start - offset);
      const to = Math.min(chunk.length, end + 1 - offset);
      offset += chunk.length;
      done(null, from < to ? chunk.subarray(from, to) : undefined);
    },
  });
}

/** Opens the object; a range goes to S3 as a Range header, so only those bytes travel. */
export async function getObject(ctx: S3Context, key: string, opts: GetOptions): Promise<GetResult> {
  if (opts.range) checkRangeShape(opts.range);
  let out;
  try {
    out = await ctx.client.send(
      new GetObjectCommand({ Bucket: ctx.bucket, Key: key, ...(opts.range ? { Range: rangeHeader(opts.range) } : {}) }),
      { abortSignal: opts.signal },
    );
  } catch (err) {
    throw fromS3Error(err, { op: 'get', subject: key, bucket: ctx.bucket });
  }
  let body = out.Body as Readable | undefined;
  if (!body) body = Readable.from([]);
  try {
    if (!opts.range) {
      const info = objectInfoFrom(key, out, out.ContentLength ?? 0);
      if (opts.signal) addAbortSignal(opts.signal, body);
      return { info, body };
    }
    const partial = out.ContentRange ? parseContentRange(out.ContentRange) : undefined;
    if (partial) {
      const info = objectInfoFrom(key, out, partial.size);
      if (opts.signal) addAbortSignal(opts.signal, body);
      return { info, body, range: partial.range };
    }
    // A whole-object answer to a ranged request: the object is empty (no range fits), or the
    // server ignores ranges, in which case the range is cut out here.
    const size = out.ContentLength ?? 0;
    const info = objectInfoFrom(key, out, size);
    const range = resolveRange(opts.range, size);
    const sliced = range.start === 0 && range.end === size - 1 ? body : body.pipe(sliceStream(range.start, range.end));
    if (sliced !== body) body.on('error', (err) => sliced.destroy(err));
    if (opts.signal) addAbortSignal(opts.signal, sliced);
    return { info, body: sliced, range };
  } catch (err) {
    body.destroy();
    throw err instanceof StorageError ? err : fromS3Error(err, { op: 'get', subject: key, bucket: ctx.bucket });
  }
}

/** HEAD with what a copy needs besides the info: the store's own ETag and the headers to carry over. */
export async function headForCopy(ctx: S3Context, key: string) {
  try {
    const out = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }));
    const info = await withTaggedChecksum(ctx, objectInfoFrom(key, out, out.ContentLength ?? 0), out.ETag);
    const headers = {
      ...(out.ContentType ? { ContentType: out.ContentType } : {}),
      ...(out.CacheControl ? { CacheControl: out.CacheControl } : {}),
      ...(out.ContentDisposition ? { ContentDisposition: out.ContentDisposition } : {}),
      ...(out.ContentEncoding ? { ContentEncoding: out.ContentEncoding } : {}),
      ...(out.ContentLanguage ? { ContentLanguage: out.ContentLanguage } : {}),
      Metadata: out.Metadata ?? {},
    };
    return { info, s3Etag: out.ETag, headers };
  } catch (err) {
    throw fromS3Error(err, { op: 'head', subject: key, bucket: ctx.bucket });
  }
}

export async function objectExists(ctx: S3Context, key: string): Promise<boolean> {
  try {
    await headObject(ctx, key);
    return true;
  } catch (err) {
    if (isStorageError(err, 'NotFound')) return false;
    throw err;
  }
}
