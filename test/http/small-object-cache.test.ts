import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../src/backends/local/index.js';
import type { Backend } from '../../src/core/backend.js';
import { SMALL_OBJECT_BYTES, SmallObjectCache } from '../../src/service/small-objects.js';
import { auth, upload } from '../support/http.js';
import { type BackendFactory, type ServiceHandle, startService } from '../support/service.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A local backend whose reads are counted: a read served from memory does not reach it. */
function countingLocal(reads: string[], roots: string[]): BackendFactory {
  return async () => {
    const root = await mkdtemp(join(tmpdir(), 'bg-cache-'));
    roots.push(root);
    const local = await createLocalBackend({ root, fsync: false });
    const backend = new Proxy(local, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop === 'get') return (key: string, opts?: unknown) => (reads.push(key), local.get(key, opts as never));
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as Backend;
    return { backend, cleanup: () => rm(root, { recursive: true, force: true }) };
  };
}

describe('small objects are served from memory, never stale', () => {
  const reads: string[] = [];
  const roots: string[] = [];
  let h: ServiceHandle;
  beforeAll(async () => {
    h = await startService({ backend: countingLocal(reads, roots) });
  });
  afterAll(async () => h?.stop());
  const download = async (id: string, headers: Record<string, string> = {}, route = 'download') => {
    const res = await fetch(`${h.url}/cdn/${route}/${id}`, { headers: { ...auth(h.serviceToken), ...headers } });
    return { res, bytes: Buffer.from(await res.arrayBuffer()) };
  };
  const readsOf = (key: string) => reads.filter((k) => k === key).length;

  it('reads a small object from the backend once, then from memory: whole, ranged, unsatisfiable, 304', async () => {
    const body = randomBytes(4096);
    const stored = await upload(h, 'uploads', 'cache/a.bin', body);
    const first = await download(stored.id);
    expect(first.res.status).toBe(200);
    expect(first.bytes.equals(body)).toBe(true);
    const again = await download(stored.id);
    expect(again.bytes.equals(body)).toBe(true);
    expect(again.res.headers.get('etag')).toBe(stored.etag);
    expect(again.res.headers.get('content-type')).toBe('application/octet-stream');
    expect(again.res.headers.get('content-length')).toBe('4096');
    const part = await download(stored.id, { range: 'bytes=100-199' }, 'stream');
    expect(part.res.status).toBe(206);
    expect(part.res.headers.get('content-range')).toBe('bytes 100-199/4096');
    expect(part.bytes.equals(body.subarray(100, 200))).toBe(true);
    const tail = await download(stored.id, { range: 'bytes=-10' }, 'stream');
    expect(tail.bytes.equals(body.subarray(4086))).toBe(true);
    const past = await download(stored.id, { range: 'bytes=5000-' }, 'stream');
    expect(past.res.status).toBe(416);
    expect(past.res.headers.get('content-range')).toBe('bytes */4096');
    expect((await download(stored.id, { 'if-none-match': stored.etag })).res.status).toBe(304);
    expect(readsOf(stored.key)).toBe(1);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(Number(/bucketgate_small_object_cache_lookups_total\{result="hit"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
    expect(Number(/bucketgate_small_object_cache_lookups_total\{result="miss"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/bucketgate_small_object_cache_bytes (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4096);
  });

  it('serves the new content after an overwrite, through this service or behind its back (another instance)', async () => {
    const one = randomBytes(3000);
    const stored = await upload(h, 'uploads', 'cache/b.bin', one);
    expect((await download(stored.id)).bytes.equals(one)).toBe(true);
    const two = randomBytes(3000);
    await upload(h, 'uploads', 'cache/b.bin', two); // same key, same id, new SHA-256
    expect((await download(stored.id)).bytes.equals(two)).toBe(true);
    // Another instance sharing the catalog and the disk writes a third version: nothing here is told.
    const three = Buffer.from('written by another instance');
    const info = await h.storage.backend.put(stored.key, Readable.from([three]), { contentType: 'text/plain' });
    await h.storage.catalog.upsertObject({ key: stored.key, segment: 'uploads', size: info.size, contentType: info.contentType, etag: info.etag, sha256: info.sha256 ?? null, owner: null, location: 'primary' });
    const served = await download(stored.id);
    expect(served.bytes.equals(three)).toBe(true);
    expect(served.res.headers.get('content-type')).toBe('text/plain');
    expect(served.res.headers.get('etag')).toBe(info.etag);
    expect((await download(stored.id)).bytes.equals(three)).toBe(true);
    expect(readsOf(stored.key)).toBe(3); // once per version
  });

  it('keeps nothing the catalog does not vouch for: bytes changed on disk are served as they are, and read again each time', async () => {
    const body = randomBytes(2048);
    const stored = await upload(h, 'uploads', 'cache/c.bin', body);
    const onDisk = join(roots[0]!, 'uploads', 'cache', 'c.bin');
    const edited = randomBytes(2048);
    await writeFile(onDisk, edited); // by hand: no sidecar, no catalog update
    const seen = await download(stored.id);
    expect(sha(seen.bytes)).not.toBe(stored.sha256);
    await download(stored.id);
    expect(readsOf(stored.key)).toBe(2);
  });

  it('does not keep objects over 64 KiB, and forgets a deleted one', async () => {
    const big = randomBytes(SMALL_OBJECT_BYTES + 1);
    const large = await upload(h, 'uploads', 'cache/large.bin', big);
    await download(large.id);
    expect((await download(large.id)).bytes.equals(big)).toBe(true);
    expect(readsOf(large.key)).toBe(2);
    const small = await upload(h, 'uploads', 'cache/gone.bin', 'short lived');
    await download(small.id);
    expect((await fetch(`${h.url}/cdn/files/${small.id}`, { method: 'DELETE', headers: auth(h.serviceToken) })).status).toBe(204);
    expect((await download(small.id)).res.status).toBe(404);
  });
});

describe('BHIV_SMALL_OBJECT_CACHE_MB', () => {
  it('0 turns the cache off: every read reaches the backend', async () => {
    const reads: string[] = [];
    const h = await startService({ backend: countingLocal(reads, []), env: { BHIV_SMALL_OBJECT_CACHE_MB: '0' } });
    try {
      const stored = await upload(h, 'uploads', 'nocache.bin', 'x');
      for (let i = 0; i < 3; i++) await (await fetch(`${h.url}/cdn/download/${stored.id}`, { headers: auth(h.serviceToken) })).arrayBuffer();
      expect(reads.filter((k) => k === stored.key)).toHaveLength(3);
    } finally {
      await h.stop();
    }
  });

  it('a bad value fails start-up naming the variable', async () => {
    await expect(startService({ env: { BHIV_SMALL_OBJECT_CACHE_MB: 'lots' } })).rejects.toMatchObject({ code: 'ConfigInvalid', message: expect.stringContaining('BHIV_SMALL_OBJECT_CACHE_MB') });
  });
});

describe('SmallObjectCache', () => {
  it('holds at most its budget, least recently used out first, and only bytes that match their SHA-256', () => {
    const cache = new SmallObjectCache(10_000);
    const blobs = Array.from({ length: 5 }, () => randomBytes(3000));
    for (const [i, b] of blobs.entries()) expect(cache.put(`k${i}`, sha(b), b)).toBe(true);
    expect(cache.size.bytes).toBeLessThanOrEqual(10_000);
    expect(cache.size.objects).toBe(3); // 3 × (3,000 + overhead) fit in 10,000, 4 do not
    expect(cache.get('k0', sha(blobs[0]!))).toBeUndefined();
    expect(cache.get('k2', sha(blobs[2]!))?.equals(blobs[2]!)).toBe(true); // k2 is now the most recent
    cache.put('k5', sha(blobs[0]!), blobs[0]!);
    expect(cache.get('k2', sha(blobs[2]!))).toBeDefined();
    expect(cache.get('k3', sha(blobs[3]!))).toBeUndefined();
    expect(cache.get('k2', sha(blobs[4]!))).toBeUndefined(); // another version of k2
    expect(cache.put('bad', sha(blobs[1]!), blobs[2]!)).toBe(false);
    expect(cache.put('huge', sha(Buffer.alloc(SMALL_OBJECT_BYTES + 1)), Buffer.alloc(SMALL_OBJECT_BYTES + 1))).toBe(false);
    cache.drop('k2');
    expect(cache.get('k2', sha(blobs[2]!))).toBeUndefined();
    // Tiny objects are charged their overhead too: a 10,000-byte budget holds dozens, not thousands.
    const tiny = new SmallObjectCache(10_000);
    for (let i = 0; i < 1000; i++) tiny.put(`t${i}`, sha(Buffer.from([i % 256])), Buffer.from([i % 256]));
    expect(tiny.size.objects).toBeLessThan(50);
    expect(tiny.size.bytes).toBeLessThanOrEqual(10_000);
  });
});
