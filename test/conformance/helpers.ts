import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'vitest';
import type { Backend } from '../../src/core/backend.js';
import { type ErrorCode, StorageError } from '../../src/core/errors.js';
import type { ListOptions, ObjectInfo } from '../../src/core/types.js';

export const MiB = 1024 * 1024;

/** A short random name: every test works in its own folder so the suite can share one bucket. */
export function randomName(): string {
  return randomBytes(6).toString('hex');
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A byte stream of `data`, cut into `chunkSize` pieces (so backends see a real stream, not one buffer). */
export function bodyOf(data: Buffer | string, chunkSize = 64 * 1024): Readable {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= buffer.length) {
        this.push(null);
        return;
      }
      this.push(buffer.subarray(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

/** A stream that records whether anyone ever read from it (to prove a refusal came before I/O). */
export function untouchedBody(): { body: Readable; touched: () => boolean } {
  let touched = false;
  const body = new Readable({
    read() {
      touched = true;
      this.push(Buffer.from('x'));
      this.push(null);
    },
  });
  return { body, touched: () => touched };
}

/** Sends `goodBytes` bytes, then fails: a client cut off half way. */
export function failingBody(goodBytes: number): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.alloc(goodBytes, 0x61));
        return;
      }
      setImmediate(() => this.destroy(new Error('connection reset by the test')));
    },
  });
}

export async function readAll(body: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

export async function getBytes(backend: Backend, key: string): Promise<Buffer> {
  return readAll((await backend.get(key)).body);
}

/** Asserts the promise rejects with a StorageError of `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<StorageError> {
  const outcome = await promise.then(
    (value: unknown) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected ${code}, but the call succeeded`);
  expect(outcome.error, `expected a StorageError ${code}`).toBeInstanceOf(StorageError);
  expect((outcome.error as StorageError).code).toBe(code);
  return outcome.error as StorageError;
}

/** Rejects with any StorageError (for failures whose exact code a backend may choose). */
export async function expectStorageError(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the call to fail with a StorageError').toBeInstanceOf(StorageError);
  return error as StorageError;
}

/** Byte order of keys as UTF-8 (what S3 and every backend must sort by). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function sortedByBytes(keys: Iterable<string>): string[] {
  return [...keys].sort(compareBytes);
}

/** What a delimiter listing of `keys` under `prefix` must return, computed the plain way (S3 semantics). */
export function groupByDelimiter(keys: Iterable<string>, prefix: string, delimiter: string): { objects: string[]; prefixes: string[] } {
  const objects: string[] = [];
  const prefixes = new Set<string>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const at = key.indexOf(delimiter, prefix.length);
    if (at < 0) objects.push(key);
    else prefixes.add(key.slice(0, at + delimiter.length));
  }
  return { objects: sortedByBytes(objects), prefixes: sortedByBytes(prefixes) };
}

export interface CollectedPages {
  objects: ObjectInfo[];
  prefixes: string[];
  pages: { objects: string[]; prefixes: string[] }[];
}

/** Follows cursors to the end, keeping each page for checks on page size and order. */
export async function listAll(backend: Backend, prefix: string, opts: Omit<ListOptions, 'cursor'> = {}): Promise<CollectedPages> {
  const collected: CollectedPages = { objects: [], prefixes: [], pages: [] };
  let cursor: string | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await backend.list(prefix, { ...opts, cursor });
    collected.objects.push(...page.objects);
    collected.prefixes.push(...page.prefixes);
    collected.pages.push({ objects: page.objects.map((o) => o.key), prefixes: page.prefixes });
    if (!page.cursor) return collected;
    cursor = page.cursor;
  }
  throw new Error('listing never ended');
}

/** Runs `fn` over `items` with at most `parallel` calls in flight. */
export async function inParallel<T>(items: readonly T[], parallel: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}

/**
 * A large body generated on the fly (never held whole): chunk i is a pseudo-random fill
 * seeded by i, so any byte range can be recomputed later without storing the object.
 */
export class GeneratedObject {
  static readonly CHUNK = 64 * 1024;

  constructor(readonly size: number) {}

  private chunk(index: number): Buffer {
    const length = Math.min(GeneratedObject.CHUNK, this.size - index * GeneratedObject.CHUNK);
    const out = Buffer.allocUnsafe(length);
    let x = (index + 1) * 2654435761;
    for (let i = 0; i < length; i++) {
      // xorshift32: cheap, deterministic, never a repeating pattern a backend could dedupe
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  }

  /** A fresh stream of the whole object. */
  open(): Readable {
    let index = 0;
    const chunks = Math.ceil(this.size / GeneratedObject.CHUNK);
    const chunkAt = (i: number) => this.chunk(i);
    // One chunk per read: a real stream with back-pressure, never the whole object in memory.
    return new Readable({
      read() {
        if (index >= chunks) this.push(null);
        else this.push(chunkAt(index++));
      },
    });
  }

  sha256(): string {
    const hash = createHash('sha256');
    for (let i = 0; i < Math.ceil(this.size / GeneratedObject.CHUNK); i++) hash.update(this.chunk(i));
    return hash.digest('hex');
  }

  /** Bytes start..end (inclusive). */
  slice(start: number, end: number): Buffer {
    const first = Math.floor(start / GeneratedObject.CHUNK);
    const last = Math.floor(end / GeneratedObject.CHUNK);
    const parts: Buffer[] = [];
    for (let i = first; i <= last; i++) parts.push(this.chunk(i));
    const joined = Buffer.concat(parts);
    const offset = start - first * GeneratedObject.CHUNK;
    return joined.subarray(offset, offset + end - start + 1);
  }
}
