import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageError, isStorageError } from '../../core/errors.js';
import { SharedPartsSha256 } from '../../core/shared-parts.js';
import { checkMeasured, etagFromSha256, takeWholeBytes, tooLarge } from '../../core/streams.js';
import type { ObjectInfo } from '../../core/types.js';
import { MeasuredBody } from './body.js';
import { writeChecksumTags } from './checksum-tags.js';
import { MAX_PARTS } from './config.js';
import { type S3Context, sseParams } from './context.js';
import { refuseIfExists } from './copy.js';
import { canPutDirectly, directPut } from './direct-put.js';
import { s3Call } from './errors.js';
import { withPayloadSha256 } from './integrity-headers.js';
import { s3sdk } from './sdk.js';
import { encodeMetadata, etagOf } from './metadata.js';
import { MultipartUpload } from './multipart.js';
import { PartBuffers } from './part-buffers.js';
import type { CheckedPut } from './validate.js';

const { PutObjectCommand } = s3sdk;

function infoOf(key: string, put: CheckedPut, size: number, sha256: string | undefined, etag: string): ObjectInfo {
  const info: ObjectInfo = { key, size, etag, contentType: put.contentType, lastModified: new Date(), metadata: { ...put.metadata } };
  if (sha256 !== undefined) info.sha256 = sha256;
  return info;
}

/**
 * Streams a body into `key`. Bodies up to the multipart threshold are held in memory (a
 * bounded amount) until they have ended and passed every check, then sent in one PutObject;
 * nothing is written unless the whole body arrived as promised, so a failed overwrite leaves
 * the old object as it was. Larger bodies go up as a multipart upload that is completed only
 * after the same checks, and aborted otherwise.
 */
export async function putObject(ctx: S3Context, key: string, body: Readable, put: CheckedPut): Promise<ObjectInfo> {
  const threshold = ctx.opts.multipartThresholdBytes;
  // A body already whole in memory (a small local read) is sent as it is, past the stream machinery.
  const whole = takeWholeBytes(body);
  if (whole !== undefined) {
    if (whole.length > put.maxBytes) throw tooLarge(put.maxBytes);
    if (whole.length <= threshold) return putSingle(ctx, key, whole, put);
    body = Readable.from([whole]);
  }
  const measured = new MeasuredBody(body, { maxBytes: put.maxBytes, contentLength: put.contentLength, key, signal: put.signal });
  const buffered: Buffer[] = [];
  let bufferedBytes = 0;
  const chunks = measured.chunks();
  try {
    // A body declared larger than the threshold goes straight to multipart.
    if (put.contentLength === undefined || put.contentLength <= threshold) {
      for (;;) {
        const next = await chunks.next();
        if (next.done) return await putSingle(ctx, key, Buffer.concat(buffered, bufferedBytes), put);
        buffered.push(next.value);
        bufferedBytes += next.value.length;
        if (bufferedBytes > threshold) break;
      }
    }
    return await putMultipart(ctx, key, buffered, chunks, measured, put);
  } finally {
    measured.discard();
  }
}

/** The headers of a PutObject sent directly: what the SDK would make of the same input fields. */
function putHeaders(ctx: S3Context, put: CheckedPut, metadata: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': put.contentType };
  if (put.cacheControl) headers['cache-control'] = put.cacheControl;
  if (put.createOnly) headers['if-none-match'] = '*';
  const { ServerSideEncryption, SSEKMSKeyId } = sseParams(ctx);
  if (ServerSideEncryption) headers['x-amz-server-side-encryption'] = ServerSideEncryption;
  if (SSEKMSKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = SSEKMSKeyId;
  for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

async function putSingle(ctx: S3Context, key: string, data: Buffer, put: CheckedPut): Promise<ObjectInfo> {
  // One hash serves both: our checksum, and the payload hash the request is signed with.
  const sha256 = createHash('sha256').update(data).digest('hex');
  checkMeasured({ bytes: data.length, sha256: () => sha256 }, put);
  const metadata = encodeMetadata(put.metadata, sha256);
  if (await canPutDirectly(ctx)) {
    const headers = putHeaders(ctx, put, metadata);
    await directPut(ctx, { key, body: data, sha256, headers, createOnly: put.createOnly, ...(put.signal ? { signal: put.signal } : {}) });
  } else {
    // Buckets whose endpoint rules want another signature (S3 Express) go through the SDK.
    await s3Call({ op: 'put', subject: key, bucket: ctx.bucket, createOnly: put.createOnly }, () =>
      ctx.client.send(
        withPayloadSha256(new PutObjectCommand({
          Bucket: ctx.bucket,
          Key: key,
          Body: data,
          ContentLength: data.length,
          ContentType: put.contentType,
          ...(put.cacheControl ? { CacheControl: put.cacheControl } : {}),
          Metadata: metadata,
          ...(put.createOnly ? { IfNoneMatch: '*' } : {}),
          ...sseParams(ctx),
        }), sha256),
        { abortSignal: put.signal },
      ),
    );
  }
  return infoOf(key, put, data.length, sha256, etagFromSha256(sha256));
}

async function putMultipart(
  ctx: S3Context,
  key: string,
  buffered: Buffer[],
  chunks: AsyncGenerator<Buffer>,
  measured: MeasuredBody,
  put: CheckedPut,
): Promise<ObjectInfo> {
  // A create-only upload checks first rather than sending every part for nothing; the
  // If-None-Match on completion still settles a race.
  if (put.createOnly) await refuseIfExists(ctx, key);
  // With a declared length, parts grow as needed to stay within S3's 10,000. Without one they
  // stay S3_PART_SIZE_MB (memory per upload is part size × queue size), which caps such a body
  // at 10,000 parts: 48.8 GiB at 5 MiB (docs/s3.md).
  const partSize = put.contentLength !== undefined ? Math.max(ctx.opts.partSizeBytes, Math.ceil(put.contentLength / MAX_PARTS)) : ctx.opts.partSizeBytes;
  // Each part is hashed in place on the worker: its own SHA-256 signs its request, and the
  // whole body's comes from the same pass, so this thread hashes nothing.
  const hasher = new SharedPartsSha256();
  // A SHA-256 declared up front is stored as the upload starts; otherwise it is tagged on after completing.
  const upload = await MultipartUpload.start(ctx, {
    key,
    headers: { ContentType: put.contentType, ...(put.cacheControl ? { CacheControl: put.cacheControl } : {}), Metadata: encodeMetadata(put.metadata, put.sha256) },
    signal: put.signal,
  }).catch((err: unknown) => {
    hasher.abort();
    throw err;
  });
  let completed = false;
  const parts = new PartBuffers(partSize);
  try {
    const send = () => {
      const part = parts.take();
      const sha256 = hasher.part(part.body);
      sha256.catch(() => undefined); // awaited by the part's upload; a part refused before that must not go unhandled
      return upload.addPart({ ...part, sha256 });
    };
    const add = async (chunk: Buffer) => {
      for (let offset = 0; offset < chunk.length; ) {
        offset += parts.fill(chunk, offset);
        if (parts.full) await send();
      }
    };
    for (const chunk of buffered.splice(0)) await add(chunk);
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      await add(next.value);
    }
    if (parts.pending > 0 || measured.bytes === 0) await send();
    await upload.finishParts();
    const sha256 = await hasher.digest();
    checkMeasured({ bytes: measured.bytes, sha256: () => sha256 }, put);
    const s3Etag = await upload.complete(put.createOnly);
    completed = true;
    if (put.sha256 !== undefined) return infoOf(key, put, measured.bytes, sha256, etagFromSha256(sha256));
    // The ETag stays the store's (see read.ts); head and list find the checksum in the tags.
    if (s3Etag !== undefined) await writeChecksumTags(ctx, key, sha256, s3Etag);
    return infoOf(key, put, measured.bytes, sha256, etagOf(undefined, s3Etag));
  } catch (err) {
    hasher.abort();
    parts.discard();
    if (!completed) await upload.abort();
    throw isStorageError(err) ? err : new StorageError('Internal', `upload of ${key} failed`, { cause: err });
  }
}
