import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { CatalogObject } from '../catalog/types.js';
import { StorageError } from '../core/errors.js';
import { resolveRange } from '../core/range.js';
import type { ByteRange, ObjectInfo, ResolvedRange } from '../core/types.js';

/** Objects up to this size are kept whole in memory once read. */
export const SMALL_OBJECT_BYTES = 64 * 1024;
/** What an entry costs beyond its bytes (map entry, record, buffer object), so tiny objects cannot overrun the budget. */
const ENTRY_OVERHEAD = 256;

/**
 * The bytes of small objects recently served, kept by key and SHA-256: an entry is the content
 * whose hash the catalog names, so it is never stale — an overwrite anywhere (another instance
 * too) changes the catalog row's SHA-256 and the old entry is simply not asked for again. Reads
 * of a cached object skip the backend and its layers (retry, breaker, outbox lookup, file
 * system): per request that was most of the CPU of a small download. Least recently used
 * entries go first once `maxBytes` is reached.
 */
export class SmallObjectCache {
  private readonly entries = new Map<string, { sha256: string; bytes: Buffer }>();
  private held = 0;

  /** `onLookup`: told of every lookup, found or not (the service counts them in /metrics). */
  constructor(
    readonly maxBytes: number,
    private readonly onLookup?: (found: boolean) => void,
  ) {}

  /** `bytes`: what the entries cost, their overhead included. */
  get size(): { objects: number; bytes: number } {
    return { objects: this.entries.size, bytes: this.held };
  }

  /** The cached content of `key` if it is the one with this SHA-256. */
  get(key: string, sha256: string): Buffer | undefined {
    const entry = this.entries.get(key);
    const found = entry !== undefined && entry.sha256 === sha256;
    this.onLookup?.(found);
    if (!found) return undefined;
    this.entries.delete(key); // most recently used goes last
    this.entries.set(key, entry);
    return entry.bytes;
  }

  /** Keeps `bytes` as the content of `key` if they hash to `sha256` (so a bad read is never kept). */
  put(key: string, sha256: string, bytes: Buffer): boolean {
    if (bytes.length > SMALL_OBJECT_BYTES || bytes.length + ENTRY_OVERHEAD > this.maxBytes) return false;
    if (createHash('sha256').update(bytes).digest('hex') !== sha256) return false;
    this.drop(key);
    // An exact copy of its own: a small Buffer is often a slice of Node's shared 8 KiB pool, which
    // a cached slice would keep alive whole, unaccounted.
    const own = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(own);
    this.entries.set(key, { sha256, bytes: own });
    this.held += own.length + ENTRY_OVERHEAD;
    for (const [oldest, entry] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.held -= entry.bytes.length + ENTRY_OVERHEAD;
    }
    return true;
  }

  /** Frees the memory of a key this instance deleted or overwrote (correctness does not need it). */
  drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.held -= entry.bytes.length + ENTRY_OVERHEAD;
  }
}

/** An object to serve: a stream from the backend, or the whole (small) content in memory. */
export interface ServedObject {
  info: ObjectInfo;
  body: Readable | Buffer;
  range?: ResolvedRange;
}

/** Whether a catalog row names content the cache may hold. */
export function cacheable(row: CatalogObject): row is CatalogObject & { sha256: string } {
  return row.sha256 !== null && row.size <= SMALL_OBJECT_BYTES;
}

/** The cached content of a row, ranged as asked (RangeNotSatisfiable as a backend would say it). */
export function fromMemory(row: CatalogObject, bytes: Buffer, range: ByteRange | undefined): ServedObject {
  const info: ObjectInfo = { key: row.key, size: bytes.length, etag: row.etag, sha256: row.sha256 ?? undefined, contentType: row.contentType, lastModified: row.updatedAt, metadata: {} };
  if (!range) return { info, body: bytes };
  const resolved = resolveRange(range, bytes.length);
  return { info, body: bytes.subarray(resolved.start, resolved.end + 1), range: resolved };
}

/** Reads a body the backend said holds `size` (≤ SMALL_OBJECT_BYTES) bytes, whole. */
export async function readSmall(body: Readable, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length > size) {
      body.destroy();
      throw new StorageError('BackendUnavailable', `the object grew while it was read (${size} bytes announced)`);
    }
  }
  if (length !== size) throw new StorageError('BackendUnavailable', `the object came short (${length} of ${size} bytes)`);
  return Buffer.concat(chunks, length);
}
