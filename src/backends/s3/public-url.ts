import type { S3Context } from './context.js';

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** Public URL of an object in a public segment: CloudFront when configured, else the bucket's own address. */
export function publicUrlOf(ctx: S3Context, key: string, segment: string): string | undefined {
  if (!ctx.opts.publicSegments.has(segment)) return undefined;
  const path = encodeKey(key);
  if (ctx.opts.cloudfrontBase) return `${ctx.opts.cloudfrontBase}/${path}`;
  if (ctx.opts.endpoint) {
    if (ctx.opts.forcePathStyle) return `${ctx.opts.endpoint}/${ctx.bucket}/${path}`;
    const url = new URL(ctx.opts.endpoint);
    return `${url.protocol}//${ctx.bucket}.${url.host}/${path}`;
  }
  return `https://${ctx.bucket}.s3.${ctx.opts.region}.amazonaws.com/${path}`;
}
