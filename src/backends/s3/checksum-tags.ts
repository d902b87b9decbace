import { s3sdk } from './sdk.js';
import type { S3Context } from './context.js';
import { withContentMd5 } from './integrity-headers.js';

const { GetObjectTaggingCommand, PutObjectTaggingCommand } = s3sdk;

/**
 * The SHA-256 of a multipart upload is known only once the body has ended, after the upload's
 * metadata was fixed, and rewriting metadata means copying the object (hundreds of ms per
 * 100 MiB even on MinIO). So it goes into two object tags instead, a constant-cost call:
 * `bg-sha256` and `bg-etag`, the store's ETag of the object it describes. A reader trusts the
 * checksum only while that ETag still matches, so a tag written a moment after a newer writer
 * replaced the object (tags have no If-Match) is never believed; an overwrite drops tags anyway.
 * The object's ETag stays the store's own, so reads need no second request.
 */
const SHA_TAG = 'bg-sha256';
const ETAG_TAG = 'bg-etag';

function bare(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}

/** Our uploads that carry the checksum in tags are multipart, whose ETags end in `-<parts>`. */
export function mayCarryChecksumTags(s3Etag: string | undefined): boolean {
  return s3Etag !== undefined && /-\d+"?$/.test(s3Etag);
}

/** Best effort: false when the store refuses (no tagging API, or no permission). */
export async function writeChecksumTags(ctx: S3Context, key: string, sha256: string, s3Etag: string): Promise<boolean> {
  try {
    await ctx.client.send(
      withContentMd5(
        new PutObjectTaggingCommand({
          Bucket: ctx.bucket,
          Key: key,
          Tagging: { TagSet: [{ Key: SHA_TAG, Value: sha256 }, { Key: ETAG_TAG, Value: bare(s3Etag) }] },
        }),
      ),
    );
    return true;
  } catch {
    return false;
  }
}

/** The checksum tagged on the object whose store ETag is `s3Etag`, if any and still valid. */
export async function readChecksumTags(ctx: S3Context, key: string, s3Etag: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const out = await ctx.client.send(new GetObjectTaggingCommand({ Bucket: ctx.bucket, Key: key }), { abortSignal: signal });
    const tags = new Map((out.TagSet ?? []).map((t) => [t.Key, t.Value]));
    const sha = tags.get(SHA_TAG);
    if (sha && /^[0-9a-f]{64}$/.test(sha) && tags.get(ETAG_TAG) === bare(s3Etag)) return sha;
  } catch {
    // No tagging API or no permission to read tags: the object is still fine, only without our checksum.
  }
  return undefined;
}
