import { s3sdk } from './sdk.js';
import { StorageError } from '../../core/errors.js';
import { etagFromSha256 } from '../../core/streams.js';
import type { ObjectInfo } from '../../core/types.js';
import { MAX_PARTS } from './config.js';
import { type S3Context, copySource, sseParams } from './context.js';
import { fromS3Error } from './errors.js';
import { SHA_METADATA, etagOf } from './metadata.js';
import { MultipartUpload } from './multipart.js';
import { headForCopy, objectExists } from './read.js';

const { CopyObjectCommand, DeleteObjectCommand } = s3sdk;

/** Fails with AlreadyExists if `key` exists: a check before any work, for stores that ignore If-None-Match on copies. */
export async function refuseIfExists(ctx: S3Context, key: string): Promise<void> {
  if (await objectExists(ctx, key)) throw new StorageError('AlreadyExists', `${key} already exists`);
}

/** A copy carries the checksum in its metadata whenever the source had one, so its ETag derives from it. */
function copiedEtag(sha256: string | undefined, s3Etag: string | undefined): string {
  return sha256 !== undefined ? etagFromSha256(sha256) : etagOf(undefined, s3Etag);
}

/**
 * Server-side copy keeping content type and metadata (our SHA-256 included, so the copy has
 * the same ETag). `CopySourceIfMatch` pins the version whose HEAD we read, so the info
 * returned describes the bytes copied. Above the copy threshold (5 GiB, S3's limit for one
 * CopyObject) the copy goes part by part.
 */
export async function copyObject(ctx: S3Context, from: string, to: string, createOnly: boolean): Promise<ObjectInfo> {
  if (createOnly) await refuseIfExists(ctx, to);
  const source = await headForCopy(ctx, from);
  const target: ObjectInfo = { ...source.info, key: to, metadata: { ...source.info.metadata } };
  // A checksum kept in tags (our multipart uploads) goes into the copy's metadata, where it
  // needs no tag: the copy is written anyway, and a copy's ETag differs from its source's.
  const shaInTags = source.info.sha256 !== undefined && source.headers.Metadata[SHA_METADATA] === undefined;
  if (shaInTags) source.headers.Metadata = { ...source.headers.Metadata, [SHA_METADATA]: source.info.sha256 as string };
  if (source.info.size > ctx.opts.multipartCopyThresholdBytes) {
    const etag = await copyInParts(ctx, from, to, source, createOnly);
    return { ...target, etag: copiedEtag(source.info.sha256, etag), lastModified: new Date() };
  }
  try {
    const out = await ctx.client.send(
      new CopyObjectCommand({
        Bucket: ctx.bucket,
        Key: to,
        CopySource: copySource(ctx, from),
        ...(source.s3Etag ? { CopySourceIfMatch: source.s3Etag } : {}),
        ...(shaInTags ? { MetadataDirective: 'REPLACE', ...source.headers } : { MetadataDirective: 'COPY' }),
        ...(createOnly ? { IfNoneMatch: '*' } : {}),
        ...sseParams(ctx),
      }),
    );
    return { ...target, etag: copiedEtag(source.info.sha256, out.CopyObjectResult?.ETag), lastModified: out.CopyObjectResult?.LastModified ?? new Date() };
  } catch (err) {
    const mapped = fromS3Error(err, { op: 'copy', subject: `${from} to ${to}`, bucket: ctx.bucket });
    if (mapped.code !== 'PreconditionFailed' && mapped.code !== 'NotFound') throw mapped;
    if (mapped.code === 'NotFound') throw new StorageError('NotFound', `no object at ${from}`, { details: mapped.details });
    // 412: our If-None-Match (the target appeared) or our CopySourceIfMatch (the source changed).
    if (createOnly && (await objectExists(ctx, to))) throw new StorageError('AlreadyExists', `${to} already exists`);
    throw new StorageError('PreconditionFailed', `${from} changed while it was being copied; try again`, { temporary: true });
  }
}

async function copyInParts(ctx: S3Context, from: string, to: string, source: Awaited<ReturnType<typeof headForCopy>>, createOnly: boolean): Promise<string | undefined> {
  const size = source.info.size;
  const partSize = Math.max(ctx.opts.partSizeBytes, Math.ceil(size / MAX_PARTS));
  const upload = await MultipartUpload.start(ctx, { key: to, headers: source.headers, signal: undefined });
  try {
    for (let start = 0; start < size; start += partSize) {
      await upload.addCopyPart(copySource(ctx, from), source.s3Etag, start, Math.min(size, start + partSize) - 1);
    }
    await upload.finishParts();
    return await upload.complete(createOnly);
  } catch (err) {
    await upload.abort();
    throw err;
  }
}

/** Copy, then delete the source: S3 has no rename. The source goes only once the copy is whole. */
export async function moveObject(ctx: S3Context, from: string, to: string, createOnly: boolean): Promise<ObjectInfo> {
  const info = await copyObject(ctx, from, to, createOnly);
  try {
    await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: from }));
  } catch (err) {
    throw fromS3Error(err, { op: 'remove the source of the move', subject: from, bucket: ctx.bucket });
  }
  return info;
}
