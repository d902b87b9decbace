import { s3sdk } from './sdk.js';
import { StorageError } from '../../core/errors.js';
import type { PresignedRequest, PresignOptions } from '../../core/types.js';
import { type S3Context, sseParams } from './context.js';
import { fromS3Error } from './errors.js';
import { DEFAULT_CONTENT_TYPE, GRANT_METADATA } from './metadata.js';

const { GetObjectCommand, PutObjectCommand } = s3sdk;

/** SigV4 presigned URLs live at most 7 days. */
const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;
/** The largest body S3 takes in one POST or PUT. */
const MAX_SINGLE_UPLOAD = 5 * 1024 ** 3;

function sseHeaders(ctx: S3Context): Record<string, string> {
  const sse = sseParams(ctx);
  const headers: Record<string, string> = {};
  if (sse.ServerSideEncryption) headers['x-amz-server-side-encryption'] = sse.ServerSideEncryption;
  if (sse.SSEKMSKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = sse.SSEKMSKeyId;
  return headers;
}

export function checkPresignOptions(opts: PresignOptions): void {
  if (!opts || !['GET', 'PUT', 'POST'].includes(opts.method)) throw new StorageError('InvalidArgument', 'presign method must be GET, PUT or POST');
  if (!Number.isSafeInteger(opts.expiresIn) || opts.expiresIn < 1 || opts.expiresIn > MAX_EXPIRES_SECONDS) {
    throw new StorageError('InvalidArgument', `expiresIn must be whole seconds from 1 to ${MAX_EXPIRES_SECONDS}`);
  }
  if (opts.maxBytes !== undefined && (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 0)) {
    throw new StorageError('InvalidArgument', 'maxBytes must be a whole number of bytes');
  }
  if (opts.grant !== undefined && (typeof opts.grant !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(opts.grant))) {
    throw new StorageError('InvalidArgument', 'grant must be 1 to 64 letters, digits, - or _');
  }
  if (opts.contentType !== undefined && (typeof opts.contentType !== 'string' || !/^[\x21-\x7e][\x20-\x7e]*$/.test(opts.contentType))) {
    throw new StorageError('InvalidArgument', 'contentType must be a line of ASCII text');
  }
}

/**
 * A whole request a client sends straight to the store. GET and PUT are query-signed URLs;
 * the headers returned (content type, encryption) are signed too and must be sent as given.
 * A PUT cannot bound its size, so `maxBytes` is only enforced by POST (a `content-length-range`
 * policy condition); callers of a PUT check the size afterwards.
 */
export async function presignRequest(ctx: S3Context, key: string, opts: PresignOptions): Promise<PresignedRequest> {
  // Loaded on first use: every CLI command that opens an S3 backend (migrate, ls…) would
  // otherwise pay ~20 ms of start-up for a POST-policy signer it never calls.
  checkPresignOptions(opts);
  const [{ getSignedUrl }, { createPresignedPost }] = await Promise.all([import('@aws-sdk/s3-request-presigner'), import('@aws-sdk/s3-presigned-post')]);
  const expiresAt = new Date(Date.now() + opts.expiresIn * 1000);
  try {
    if (opts.method === 'GET') {
      const url = await getSignedUrl(ctx.client, new GetObjectCommand({ Bucket: ctx.bucket, Key: key }), { expiresIn: opts.expiresIn });
      return { method: 'GET', url, headers: {}, expiresAt };
    }
    const contentType = opts.contentType ?? DEFAULT_CONTENT_TYPE;
    // The grant's marker is signed like the content type: the store refuses an upload without it.
    const grant: Record<string, string> = opts.grant !== undefined ? { [`x-amz-meta-${GRANT_METADATA}`]: opts.grant } : {};
    if (opts.method === 'PUT') {
      // Create-only is a signed If-None-Match: the store itself refuses (412) a PUT onto an existing key.
      const createOnly: Record<string, string> = opts.createOnly ? { 'if-none-match': '*' } : {};
      const headers = { 'content-type': contentType, ...grant, ...createOnly, ...sseHeaders(ctx) };
      const metadata = opts.grant !== undefined ? { Metadata: { [GRANT_METADATA]: opts.grant } } : {};
      const condition = opts.createOnly ? { IfNoneMatch: '*' } : {};
      const url = await getSignedUrl(ctx.client, new PutObjectCommand({ Bucket: ctx.bucket, Key: key, ContentType: contentType, ...metadata, ...condition, ...sseParams(ctx) }), {
        expiresIn: opts.expiresIn,
        // Sent as headers (and signed as such) rather than hoisted into the query string.
        unhoistableHeaders: new Set(Object.keys(headers)),
        signableHeaders: new Set(Object.keys(headers)),
      });
      return { method: 'PUT', url, headers, expiresAt };
    }
    if (opts.createOnly) throw new StorageError('Unsupported', 'a POST policy cannot make an upload create-only');
    const maxBytes = Math.min(opts.maxBytes ?? MAX_SINGLE_UPLOAD, MAX_SINGLE_UPLOAD);
    const fields: Record<string, string> = { 'Content-Type': contentType, ...grant, ...sseHeaders(ctx) };
    const post = await createPresignedPost(ctx.client, {
      Bucket: ctx.bucket,
      Key: key,
      Fields: fields,
      Conditions: [['content-length-range', 0, maxBytes], ['eq', '$Content-Type', contentType], ...Object.entries({ ...grant, ...sseHeaders(ctx) }).map(([k, v]) => ({ [k]: v }))],
      Expires: opts.expiresIn,
    });
    return { method: 'POST', url: post.url, headers: {}, fields: post.fields, expiresAt };
  } catch (err) {
    throw fromS3Error(err, { op: `presign ${opts.method}`, subject: key, bucket: ctx.bucket });
  }
}
