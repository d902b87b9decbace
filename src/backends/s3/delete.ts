import { s3sdk } from './sdk.js';
import { isStorageError } from '../../core/errors.js';
import type { DeleteManyResult } from '../../core/types.js';
import type { S3Context } from './context.js';
import { fromS3Error } from './errors.js';

const { DeleteObjectCommand, DeleteObjectsCommand } = s3sdk;

/** DeleteObjects takes at most this many keys. */
const BATCH = 1000;

export async function deleteObject(ctx: S3Context, key: string): Promise<void> {
  try {
    // S3 answers 204 for a missing key too: delete is idempotent.
    await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key }));
  } catch (err) {
    const mapped = fromS3Error(err, { op: 'delete', subject: key, bucket: ctx.bucket });
    if (mapped.code === 'NotFound' && mapped.details?.s3Code !== 'NoSuchBucket') return;
    throw mapped;
  }
}

/**
 * Deletes keys already checked by the caller, 1,000 per DeleteObjects request. A batch the
 * store refuses as a whole reports every key in it; per-key failures are reported per key.
 */
export async function deleteKeys(ctx: S3Context, keys: readonly string[], result: DeleteManyResult): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    try {
      const out = await ctx.client.send(
        new DeleteObjectsCommand({ Bucket: ctx.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = new Map<string, { code: string; message: string }>();
      for (const e of out.Errors ?? []) {
        if (e.Key === undefined) continue;
        const mapped = fromS3Error({ name: e.Code, Code: e.Code }, { op: 'delete', subject: e.Key, bucket: ctx.bucket });
        // A key that is already gone counts as deleted.
        if (mapped.code !== 'NotFound') failed.set(e.Key, { code: mapped.code, message: mapped.message });
      }
      for (const key of batch) {
        const failure = failed.get(key);
        if (failure) result.errors.push({ key, ...failure });
        else result.deleted.push(key);
      }
    } catch (err) {
      const mapped = isStorageError(err) ? err : fromS3Error(err, { op: 'delete', subject: `${batch.length} keys`, bucket: ctx.bucket });
      for (const key of batch) result.errors.push({ key, code: mapped.code, message: mapped.message });
    }
  }
}
