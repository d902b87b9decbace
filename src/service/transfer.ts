import { createHash } from 'node:crypto';
import type { Backend } from '../core/backend.js';
import { isStorageError } from '../core/errors.js';
import type { ObjectInfo } from '../core/types.js';

/**
 * Moves objects between two backends (the guide's export/import and sync scripts), one
 * stream per object, never a temporary copy of the bucket. Resumable by construction:
 * objects already identical on the target are skipped, and a target write is atomic, so
 * one cut off half way is simply absent and copied again on the next run.
 */
export interface TransferOptions {
  segments: readonly string[];
  /** Objects in flight at once (default 16); of them, at most 4 over 1 MiB. */
  concurrency?: number;
  dryRun?: boolean;
  /** Read every copied object back from the target and compare its SHA-256. */
  verify?: boolean;
  /** Delete each source object once it is safely on the target. */
  deleteSource?: boolean;
  /** Mirror: delete target objects that the source does not have. */
  deleteExtraneous?: boolean;
  onProgress?: (p: { doneBytes: number; doneItems: number; totalBytes: number; totalItems: number }) => void;
}

export type TransferAction = 'copied' | 'skipped' | 'deleted' | 'failed' | 'would-copy' | 'would-delete';

export interface TransferItem {
  key: string;
  size: number;
  action: TransferAction;
  error?: string;
}

export interface TransferReport {
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** `deleted`: target objects the source lacks (sync --delete); `sourceDeleted`: sources removed once copied (migrate --delete-source). */
  totals: Record<TransferAction, number> & { bytesCopied: number; sourceDeleted: number };
  items: TransferItem[];
}

async function listAll(backend: Backend, segments: readonly string[], describe = true): Promise<ObjectInfo[]> {
  const all: ObjectInfo[] = [];
  for (const segment of segments) {
    let cursor: string | undefined;
    do {
      const page = await backend.list(`${segment}/`, { cursor, limit: 1000, describe });
      all.push(...page.objects);
      cursor = page.cursor;
    } while (cursor);
  }
  return all;
}

/**
 * Same content on both sides: equal size and SHA-256. Where a side has no stored checksum (an
 * object written to S3 by another tool), a quick check takes a target at least as new as the
 * source (as rsync's size and time), unless `strict`: then the missing checksums are computed by
 * reading the bytes — before a source is deleted, or when --verify asks.
 */
export async function sameContent(source: ObjectInfo, target: ObjectInfo, sides: { from: Backend; to: Backend; strict: boolean }): Promise<boolean> {
  if (source.size !== target.size) return false;
  if (source.sha256 && target.sha256) return source.sha256 === target.sha256;
  if (!sides.strict) return target.lastModified.getTime() >= source.lastModified.getTime();
  const [a, b] = await Promise.all([source.sha256 ?? hashOf(sides.from, source.key), target.sha256 ?? hashOf(sides.to, target.key)]);
  return a === b;
}

async function targetInfo(target: Backend, key: string): Promise<ObjectInfo | undefined> {
  try {
    return await target.head(key);
  } catch (err) {
    if (isStorageError(err, 'NotFound')) return undefined;
    throw err;
  }
}

async function hashOf(backend: Backend, key: string): Promise<string> {
  const { body } = await backend.get(key);
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * Objects copied at once. Many small objects gain from more requests in flight (1,000 × 64 KiB
 * to MinIO on two cores: 16 or 32 in flight took ~10 % less time than 8, and less CPU). A
 * larger object holds memory while it uploads (S3 gathers a body up to its multipart threshold,
 * 16 MiB, in one buffer, and keeps part size × queue size of a larger one, 20 MiB), so at most
 * LARGE_IN_FLIGHT objects over LARGE_BYTES go at once, whatever the concurrency: worst case
 * ~12 MiB + 4 × 20 MiB, below the 8 × 16 MiB that 8 in flight could hold before.
 */
export const DEFAULT_CONCURRENCY = 16;
const LARGE_IN_FLIGHT = 4;
const LARGE_BYTES = 1024 * 1024;

/** A counting semaphore: the function it returns runs `work` once one of `slots` is free. */
function limiter(slots: number): <R>(work: () => Promise<R>) => Promise<R> {
  let free = slots;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

export async function transfer(from: Backend, to: Backend, opts: TransferOptions): Promise<TransferReport> {
  const started = Date.now();
  const sources = await listAll(from, opts.segments);
  // One listing of the target instead of a HEAD per object: a key it does not have is copied
  // without asking (a fresh migration makes one request per object, not two). A key it has is
  // still HEADed, since listings may lack the checksum that sameContent compares; so the
  // listing is asked for keys only (on S3 a described listing is a HEAD per object as well).
  const onTarget = new Set((await listAll(to, opts.segments, false)).map((o) => o.key));
  const totalBytes = sources.reduce((n, o) => n + o.size, 0);
  const items: TransferItem[] = [];
  let doneBytes = 0;
  const progress = () => opts.onProgress?.({ doneBytes, doneItems: items.length, totalBytes, totalItems: sources.length });

  const large = limiter(LARGE_IN_FLIGHT);
  const copy = async (source: ObjectInfo) => {
    // Listings may lack metadata (S3, Supabase): the read's own info is complete.
    const { body, info } = await from.get(source.key);
    return to.put(source.key, body, {
      contentType: info.contentType,
      metadata: info.metadata,
      contentLength: info.size,
      sha256: info.sha256 ?? source.sha256,
    });
  };
  // Before a source object is deleted, its copy is proven by checksums, never by dates.
  const strict = opts.verify === true || opts.deleteSource === true;
  let sourceDeleted = 0;
  await pool(sources, opts.concurrency ?? DEFAULT_CONCURRENCY, async (source) => {
    const item: TransferItem = { key: source.key, size: source.size, action: 'skipped' };
    try {
      const existing = onTarget.has(source.key) ? await targetInfo(to, source.key) : undefined;
      if (!existing || !(await sameContent(source, existing, { from, to, strict }))) {
        if (opts.dryRun) item.action = 'would-copy';
        else {
          const written = await (source.size > LARGE_BYTES ? large(() => copy(source)) : copy(source));
          if (written.size !== source.size) throw new Error(`target holds ${written.size} bytes, source ${source.size}`);
          // What the target now holds, read back, against what was read from the source.
          const expected = source.sha256 ?? written.sha256;
          if (strict && (!expected || (await hashOf(to, source.key)) !== expected)) throw new Error('checksum differs after copy');
          item.action = 'copied';
        }
      }
      if (opts.deleteSource && !opts.dryRun) {
        await from.delete(source.key);
        sourceDeleted++;
      }
    } catch (err) {
      item.action = 'failed';
      item.error = isStorageError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
    }
    doneBytes += source.size;
    items.push(item);
    progress();
  });

  if (opts.deleteExtraneous) {
    const wanted = new Set(sources.map((o) => o.key));
    const extraneous = (await listAll(to, opts.segments, false)).filter((o) => !wanted.has(o.key));
    await pool(extraneous, opts.concurrency ?? DEFAULT_CONCURRENCY, async (o) => {
      const item: TransferItem = { key: o.key, size: o.size, action: opts.dryRun ? 'would-delete' : 'deleted' };
      try {
        if (!opts.dryRun) await to.delete(o.key);
      } catch (err) {
        item.action = 'failed';
        item.error = (err as Error).message;
      }
      items.push(item);
    });
  }

  const totals = { copied: 0, skipped: 0, deleted: 0, failed: 0, 'would-copy': 0, 'would-delete': 0, bytesCopied: 0, sourceDeleted };
  for (const i of items) {
    totals[i.action] += 1;
    if (i.action === 'copied') totals.bytesCopied += i.size;
  }
  items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { startedAt: new Date(started).toISOString(), finishedAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000, totals, items };
}
