import type { S3Client } from '@aws-sdk/client-s3';
import type { ResolvedS3Options } from './config.js';

/** What every operation of one S3 backend shares. */
export interface S3Context {
  client: S3Client;
  opts: ResolvedS3Options;
  bucket: string;
}

/** The server-side encryption headers asked for on every write, as SDK input fields. */
export function sseParams(ctx: S3Context): { ServerSideEncryption?: 'AES256' | 'aws:kms'; SSEKMSKeyId?: string } {
  if (!ctx.opts.sse) return {};
  return { ServerSideEncryption: ctx.opts.sse, ...(ctx.opts.sseKmsKeyId ? { SSEKMSKeyId: ctx.opts.sseKmsKeyId } : {}) };
}

/** `CopySource` for a key: bucket/key with each part percent-encoded and the slashes kept. */
export function copySource(ctx: S3Context, key: string): string {
  return `${ctx.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
