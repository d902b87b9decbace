import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/core/errors.js';
import { isCircuitOpen } from '../../src/layers/circuit.js';
import { createLocalBackend } from '../../src/backends/local/index.js';
import type { Backend } from '../../src/core/backend.js';
import { KeyRules } from '../../src/core/keys.js';
import { openCatalog } from '../../src/catalog/index.js';
import { BLOB_SEGMENT, fallbackLayer } from '../../src/layers/fallback.js';
import { forwardAll } from '../../src/layers/forward.js';
import { replayable } from '../../src/layers/replayable.js';
import { bytes, outcome, readAll, resilientLocal, sha256, tempDir } from './helpers.js';

type Stack = Awaited<ReturnType<typeof resilientLocal>>;
const open: Stack[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
});
async function stack(env: Record<string, string> = {}) {
  const root = await tempDir();
  const s = await resilientLocal(root, env);
  open.push(s);
  return { ...s, root };
}
const blobsIn = async (root: string) => (await readdir(join(root, '.bucketgate', 'fallback', 'outbox')).catch(() => [])).filter((n) => !n.startsWith('.'));

describe('fallback and replay', () => {
  it('takes writes during an outage, serves them, and replays them whole once the primary is back', async () => {
    const s = await stack();
    await s.backend.put('uploads/old', replayable(Buffer.from('old')));
    s.down();
    const data = new Map<string, Buffer>();
    for (let i = 0; i < 20; i++) {
      const body = bytes(5000 + i * 100, i);
      data.set(`videos/v${i}`, body);
      const info = await s.backend.put(`videos/v${i}`, Readable.from([body]));
      expect(info.key).toBe(`videos/v${i}`);
      expect(info.sha256).toBe(sha256(body));
      expect(info.location).toBe('fallback');
    }
    expect(await blobsIn(s.root)).toHaveLength(20);
    for (const [key, body] of data) {
      expect(await readAll((await s.backend.get(key)).body)).toEqual(body);
      expect(await s.backend.head(key)).toMatchObject({ size: body.length, location: 'fallback' });
    }
    const range = await s.backend.get('videos/v3', { range: { start: 10, end: 19 } });
    expect(await readAll(range.body)).toEqual(data.get('videos/v3')!.subarray(10, 20));
    await s.backend.delete('videos/v0');
    await s.backend.delete('uploads/old');
    data.delete('videos/v0');
    expect(await outcome(s.backend.get('videos/v0'))).toBe('NotFound');
    expect(await outcome(s.backend.get('uploads/old'))).toBe('NotFound');
    expect(await outcome(s.primary.head('videos/v1'))).toBe('NotFound'); // nothing reached the primary
    const status = await s.resilience.status();
    expect(status.fallback).toMatchObject({ enabled: true, pending: 21 });
    expect(status.circuit.state).toBe('open');

    s.up();
    await new Promise((r) => setTimeout(r, 120)); // the circuit lets a probe through
    await s.drain();
    for (const [key, body] of data) expect(await readAll((await s.primary.get(key)).body)).toEqual(body);
    expect(await outcome(s.primary.head('videos/v0'))).toBe('NotFound');
    expect(await outcome(s.primary.head('uploads/old'))).toBe('NotFound'); // the delete was replayed, not lost
    expect(await blobsIn(s.root)).toEqual([]);
    expect((await s.catalog.outbox.stats()).pending).toBe(0);
    expect((await s.resilience.status()).fallback).toMatchObject({ pending: 0, state: 'idle' });
    expect((await s.backend.list('videos/')).objects.map((o) => o.key).sort()).toEqual([...data.keys()].sort());
    expect((await s.backend.head('videos/v1')).location).toBeUndefined(); // the primary holds it now
  });

  it('refuses during an outage every key the primary would refuse, and keeps a normalised key as one key', async () => {
    const s = await stack();
    s.down();
    // Open circuit: the primary never sees these keys, so the layer itself must check them.
    for (const key of ['nosuchsegment/a.bin', 'uploads/../../x', '/uploads/a', 'uploads/a\\b', 'uploads/a\u0000b']) {
      expect(await outcome(s.backend.put(key, Readable.from([Buffer.from('x')]))), key).toBe('InvalidKey');
      expect(await outcome(s.backend.delete(key)), key).toBe('InvalidKey');
      expect(await outcome(s.backend.copy('uploads/none', key)), key).toBe('InvalidKey');
    }
    expect(await s.backend.deleteMany(['nosuchsegment/a', 'uploads/gone'])).toMatchObject({ deleted: ['uploads/gone'], errors: [{ key: 'nosuchsegment/a', code: 'InvalidKey' }] });
    expect((await s.catalog.outbox.stats()).pending).toBe(1); // the valid delete only
    expect(await blobsIn(s.root)).toEqual([]);
    // 'é' decomposed and composed are one key (NFC), in the outbox as on the primary.
    await s.backend.put('uploads/cafe\u0301.txt', Readable.from([Buffer.from('one')]));
    expect(await readAll((await s.backend.get('uploads/caf\u00e9.txt')).body)).toEqual(Buffer.from('one'));
    s.up();
    await new Promise((r) => setTimeout(r, 120));
    await s.drain();
    expect(await readAll((await s.primary.get('uploads/caf\u00e9.txt')).body)).toEqual(Buffer.from('one'));
    expect((await s.catalog.outbox.stats()).failed ?? 0).toBe(0);
  });

  it('a move onto itself keeps the object, whether it waits in the outbox or not', async () => {
    const s = await stack();
    await s.backend.put('uploads/doc', replayable(Buffer.from('v1')));
    s.down();
    await s.backend.put('uploads/doc', Readable.from([Buffer.from('v2')]));
    expect((await s.backend.move('uploads/doc', 'uploads/doc')).size).toBe(2);
    expect(await outcome(s.backend.move('uploads/doc', 'uploads/doc', { ifNoneMatch: '*' }))).toBe('AlreadyExists');
    expect(await readAll((await s.backend.get('uploads/doc')).body)).toEqual(Buffer.from('v2'));
    s.up();
    await new Promise((r) => setTimeout(r, 120));
    await s.drain();
    expect(await readAll((await s.primary.get('uploads/doc')).body)).toEqual(Buffer.from('v2'));
    expect(await readAll((await s.backend.get('uploads/doc')).body)).toEqual(Buffer.from('v2'));
  });

  it('keeps the catalog told where the bytes are: fallback while they wait, primary once replayed', async () => {
    const s = await stack();
    s.down();
    const body = bytes(3000, 7);
    const info = await s.backend.put('videos/held.bin', Readable.from([body]));
    // As the service records an upload (service/objects.ts).
    const row = await s.catalog.upsertObject({ key: info.key, segment: 'videos', size: info.size, contentType: info.contentType, etag: info.etag, sha256: info.sha256 ?? null, owner: null, location: info.location ?? 'primary' });
    expect(row.location).toBe('fallback');
    s.up();
    await new Promise((r) => setTimeout(r, 120));
    await s.drain();
    for (let i = 0; i < 50 && (await s.catalog.getByKey(info.key))?.location !== 'primary'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await s.catalog.getByKey(info.key)).toMatchObject({ id: row.id, location: 'primary', sha256: sha256(body) });
  });

  it('lists what waits in the outbox over what the primary holds', async () => {
    const s = await stack();
    for (const k of ['a', 'c', 'e']) await s.backend.put(`logs/${k}`, replayable(Buffer.from(k)));
    s.down();
    await s.backend.put('logs/b', replayable(Buffer.from('bb')));
    await s.backend.put('logs/c', replayable(Buffer.from('cc')));
    await s.backend.delete('logs/e');
    s.up();
    const page = await s.backend.list('logs/', {});
    expect(page.objects.map((o) => `${o.key}:${o.size}`)).toEqual(['logs/a:1', 'logs/b:2', 'logs/c:2']);
    // Paged: every key once, in order.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await s.backend.list('logs/', { limit: 1, cursor });
      seen.push(...p.objects.map((o) => o.key));
      cursor = p.cursor;
    } while (cursor);
    expect(seen).toEqual(['logs/a', 'logs/b', 'logs/c']);
  });

  it('keeps per-key order: the last write wins after replay, older copies are superseded', async () => {
    const s = await stack();
    s.down();
    await s.backend.put('scripts/s', replayable(Buffer.from('v1')));
    await s.backend.put('scripts/s', replayable(Buffer.from('v2')));
    await s.backend.delete('scripts/s');
    await s.backend.put('scripts/s', replayable(Buffer.from('v3')));
    expect(await blobsIn(s.root)).toHaveLength(1);
    s.up();
    // The primary is back, but the key still has a queued write: new writes join the queue.
    await new Promise((r) => setTimeout(r, 120));
    await s.backend.put('scripts/s', replayable(Buffer.from('v4')));
    expect((await readAll((await s.backend.get('scripts/s')).body)).toString()).toBe('v4');
    await s.drain();
    expect((await readAll((await s.primary.get('scripts/s')).body)).toString()).toBe('v4');
    expect(await blobsIn(s.root)).toEqual([]);
  });

  it('never falls back on NotFound or a client error, nor for create-only writes', async () => {
    const s = await stack();
    expect(await outcome(s.backend.get('uploads/none'))).toBe('NotFound');
    expect(await outcome(s.backend.put('uploads/big', replayable(bytes(100)), { maxBytes: 10 }))).toBe('TooLarge');
    s.down();
    expect(await outcome(s.backend.put('uploads/c', replayable(Buffer.from('c')), { ifNoneMatch: '*' }))).toBe('BackendUnavailable');
    expect(await blobsIn(s.root)).toEqual([]);
    expect(await outcome(s.backend.put('uploads/big', replayable(bytes(100)), { maxBytes: 10 }))).toBe('TooLarge');
    expect(await blobsIn(s.root)).toEqual([]);
  });

  it('a one-shot body falls back only when the primary never read it (open circuit)', async () => {
    const s = await stack({ BHIV_RETRY_BUFFER_MB: '0.01', BHIV_CIRCUIT_FAILURES: '2' });
    const big = bytes(50_000, 7);
    s.faults.update({ reset: 1 });
    // The circuit is closed: the primary started reading, so the body is spent and the error is the caller's to retry.
    expect(await outcome(s.backend.put('videos/big', Readable.from([big]), { contentLength: big.length }))).toBe('BackendUnavailable');
    s.faults.update({ reset: 0, down: true });
    await outcome(s.backend.head('videos/x'));
    await outcome(s.backend.head('videos/x'));
    expect(s.resilience.circuit.state).toBe('open');
    const info = await s.backend.put('videos/big', Readable.from([big.subarray(0, 20_000), big.subarray(20_000)]));
    expect(info.size).toBe(big.length);
    expect(await readAll((await s.backend.get('videos/big')).body)).toEqual(big);
  });

  it('a one-shot body the primary refused before reading falls back with the circuit still closed', async () => {
    const s = await stack({ BHIV_RETRY_BUFFER_MB: '0.01', BHIV_CIRCUIT_FAILURES: '5' });
    const big = bytes(200_000, 8);
    s.faults.update({ down: true });
    expect(s.resilience.circuit.state).toBe('closed');
    // Through the retry layer's stall watch: it must not start reading before the primary does.
    const info = await s.backend.put('videos/refused', Readable.from([big.subarray(0, 65_536), big.subarray(65_536, 131_072), big.subarray(131_072)]));
    expect(info.size).toBe(big.length);
    expect(s.resilience.circuit.state).toBe('closed');
    expect(sha256(await readAll((await s.backend.get('videos/refused')).body))).toBe(sha256(big));
  });

  it('a primary that set its input flowing and then failed before reading still leaves the body whole for the fallback', async () => {
    const root = await tempDir();
    // What the primary sees is the retry layer's stall watch, not the body: once the attempt is
    // over the watch lets go of a body it has not started reading.
    const s = await resilientLocal(root, { BHIV_RETRY_BUFFER_MB: '0.01' }, undefined, (primary) => ({
      ...forwardAll(primary, (_op, _key, call) => call()),
      async put(_key, body) {
        body.resume();
        throw new StorageError('BackendUnavailable', 'refused after setting the body flowing', { temporary: true });
      },
    }));
    open.push(s);
    const big = bytes(200_000, 9);
    const info = await s.backend.put('videos/drained', Readable.from([big.subarray(0, 65_536), big.subarray(65_536)]));
    expect(info.size).toBe(big.length);
    expect(sha256(await readAll((await s.backend.get('videos/drained')).body))).toBe(sha256(big));
  });

  it('never diverts a body the failing primary set flowing itself: the outage is reported, no empty object stored', async () => {
    const root = await tempDir();
    const catalog = await openCatalog(`sqlite:${join(root, 'catalog.sqlite')}`);
    const fallbackStore = await createLocalBackend({ root: join(root, 'fallback'), keys: new KeyRules([BLOB_SEGMENT]), fsync: false });
    const primary = await createLocalBackend({ root: join(root, 'primary'), fsync: false });
    const leaky: Backend = {
      ...forwardAll(primary, (_op, _key, call) => call()),
      async put(_key, body) {
        body.resume(); // its bytes now drain away, before anyone reads them
        throw new StorageError('BackendUnavailable', 'refused after setting the body flowing', { temporary: true });
      },
    };
    const backend = fallbackLayer({ fallback: fallbackStore, outbox: catalog.outbox, fallbackId: 'local:test', keys: new KeyRules() })(leaky);
    try {
      const big = bytes(200_000, 10);
      const err = await backend.put('videos/drained', Readable.from([big.subarray(0, 65_536), big.subarray(65_536)])).catch((e: unknown) => e);
      expect((err as StorageError).code).toBe('BackendUnavailable');
      expect((await catalog.outbox.stats()).pending).toBe(0);
      expect(await outcome(primary.head('videos/drained'))).toBe('NotFound');
    } finally {
      await catalog.close();
    }
  });

  it('with BHIV_FALLBACK_BACKEND=none, an outage is the caller\'s to see', async () => {
    const s = await stack({ BHIV_FALLBACK_BACKEND: 'none' });
    s.down();
    const err = await s.backend.put('uploads/x', replayable(Buffer.from('x'))).catch((e: unknown) => e);
    expect(await outcome(Promise.reject(err))).toBe('BackendUnavailable');
    expect((await s.resilience.status()).fallback.enabled).toBe(false);
    for (let i = 0; i < 5; i++) await outcome(s.backend.head('uploads/x'));
    expect(isCircuitOpen(await s.backend.head('uploads/x').catch((e: unknown) => e))).toBe(true);
  });

  it('survives a restart with entries pending: the outbox is durable, orphan blobs are swept', async () => {
    const root = await tempDir();
    const first = await resilientLocal(root);
    first.down();
    await first.backend.put('ratings/r1', replayable(Buffer.from('one')));
    // A blob whose entry never got written (a crash between the two steps), by a writer now gone.
    await first.resilience.fallback!.backend.put('outbox/host.999999.deadbeef', replayable(Buffer.from('orphan')));
    await first.close();
    const second = await resilientLocal(root);
    open.push(second);
    expect((await readAll((await second.backend.get('ratings/r1')).body)).toString()).toBe('one');
    const { sweepOrphanBlobs } = await import('../../src/layers/orphans.js');
    const fb = second.resilience.fallback!;
    expect(await sweepOrphanBlobs(fb.backend, second.catalog.outbox, fb.id, 0)).toBe(1);
    await second.drain();
    expect((await readAll((await second.primary.get('ratings/r1')).body)).toString()).toBe('one');
    expect(await blobsIn(root)).toEqual([]);
  });
});
