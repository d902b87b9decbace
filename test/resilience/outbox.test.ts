import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/index.js';
import type { Catalog } from '../../src/catalog/types.js';
import type { NewOutboxEntry } from '../../src/layers/outbox.js';
import { type PostgresTestServer, startPostgres } from '../servers/postgres.js';
import { tempDir } from './helpers.js';

const put = (key: string, blob: string, fallback = 'fb'): NewOutboxEntry => ({
  key,
  op: 'put',
  blob,
  size: 3,
  sha256: 'ab'.repeat(32),
  contentType: 'text/plain',
  metadata: { a: '1' },
  cacheControl: null,
  fallback,
});
const del = (key: string, fallback = 'fb'): NewOutboxEntry => ({ key, op: 'delete', blob: null, size: null, sha256: null, contentType: null, metadata: null, cacheControl: null, fallback });

function outboxContract(name: string, open: () => Promise<{ url: string; cleanup?: () => Promise<void> }>) {
  describe(`outbox on ${name}`, () => {
    let catalog: Catalog;
    let url: string;
    beforeAll(async () => {
      ({ url } = await open());
      catalog = await openCatalog(url);
    });
    afterAll(async () => catalog?.close());

    it('keeps the newest live entry per key; a new entry supersedes unclaimed older ones', async () => {
      const o = catalog.outbox;
      const a1 = await o.enqueue(put('uploads/a', 'outbox/1'));
      expect(a1.superseded).toEqual([]);
      const a2 = await o.enqueue(put('uploads/a', 'outbox/2'));
      expect(a2.superseded.map((e) => e.blob)).toEqual(['outbox/1']);
      await o.enqueue(put('uploads/b', 'outbox/3'));
      const d = await o.enqueue(del('uploads/a'));
      expect(d.superseded.map((e) => e.blob)).toEqual(['outbox/2']);
      const latest = await o.latest(['uploads/a', 'uploads/b', 'uploads/c']);
      expect(latest.get('uploads/a')?.op).toBe('delete');
      expect(latest.get('uploads/b')?.metadata).toEqual({ a: '1' });
      expect(latest.has('uploads/c')).toBe(false);
      expect((await o.liveUnder('uploads/', { limit: 100 })).map((e) => `${e.key}:${e.op}`)).toEqual(['uploads/a:delete', 'uploads/b:put']);
      expect((await o.liveUnder('uploads/', { after: 'uploads/a', limit: 100 })).map((e) => e.key)).toEqual(['uploads/b']);
      expect([...(await o.liveBlobs('fb'))]).toEqual(['outbox/3']);
      const stats = await o.stats('fb');
      expect(stats.pending).toBe(2);
    });

    it('claims the oldest entry per key, holds later ones back while it is claimed, and only the holder finishes it', async () => {
      const o = catalog.outbox;
      await o.enqueue(put('logs/k', 'outbox/k1', 'fb2'));
      const [first] = await o.claim({ owner: 'A', fallback: 'fb2', limit: 10, leaseMs: 60_000 });
      expect(first?.blob).toBe('outbox/k1');
      // A newer write of the same key cannot supersede the one in flight, and waits behind it.
      const second = await o.enqueue(put('logs/k', 'outbox/k2', 'fb2'));
      expect(second.superseded).toEqual([]);
      expect(await o.claim({ owner: 'B', fallback: 'fb2', limit: 10, leaseMs: 60_000 })).toEqual([]);
      expect(await o.finish(first!.seq, 'B', 'done')).toBe(false);
      expect(await o.finish(first!.seq, 'A', 'done')).toBe(true);
      const next = await o.claim({ owner: 'B', fallback: 'fb2', limit: 10, leaseMs: 60_000 });
      expect(next.map((e) => e.blob)).toEqual(['outbox/k2']);
      await o.release(next[0]!.seq, 'B', { error: 'primary down', retryAt: new Date(Date.now() + 60_000), attempt: false });
      expect(await o.claim({ owner: 'B', fallback: 'fb2', limit: 10, leaseMs: 60_000 })).toEqual([]);
      const later = await o.claim({ owner: 'B', fallback: 'fb2', limit: 10, leaseMs: 60_000, now: new Date(Date.now() + 61_000) });
      expect(later.map((e) => e.blob)).toEqual(['outbox/k2']);
      expect(later[0]!.attempts).toBe(0);
      await o.release(later[0]!.seq, 'B', { error: 'refused', failed: true });
      const stats = await o.stats('fb2');
      expect(stats).toMatchObject({ pending: 0, failed: 1 });
      expect(stats.lastCompletedAt).toBeInstanceOf(Date);
      // Failed entries are still live: reads find their bytes.
      expect((await o.latest(['logs/k'])).get('logs/k')?.state).toBe('failed');
    });

    it('ends an entry that cannot be replayed as superseded, not failed, when a newer write of its key was accepted meanwhile', async () => {
      const o = catalog.outbox;
      await o.enqueue(put('scripts/s', 'outbox/s1', 'fb5'));
      const [old] = await o.claim({ owner: 'A', fallback: 'fb5', limit: 10, leaseMs: 60_000 });
      await o.enqueue(put('scripts/s', 'outbox/s2', 'fb5')); // waits behind the claimed one
      expect(await o.release(old!.seq, 'B', { error: 'refused', failed: true })).toBeUndefined(); // not B's claim
      expect(await o.release(old!.seq, 'A', { error: 'refused', failed: true })).toBe('superseded');
      // Left failed, the old entry would be the key's newest live one once the new one is replayed.
      const [fresh] = await o.claim({ owner: 'A', fallback: 'fb5', limit: 10, leaseMs: 60_000 });
      expect(fresh?.blob).toBe('outbox/s2');
      expect(await o.finish(fresh!.seq, 'A', 'done')).toBe(true);
      expect((await o.latest(['scripts/s'])).has('scripts/s')).toBe(false);
      expect([...(await o.liveBlobs('fb5'))]).toEqual([]);
      // With no newer write, a hopeless entry is parked as failed (still live: its bytes are read).
      await o.enqueue(put('scripts/t', 'outbox/t1', 'fb5'));
      const [alone] = await o.claim({ owner: 'A', fallback: 'fb5', limit: 10, leaseMs: 60_000 });
      expect(await o.release(alone!.seq, 'A', { error: 'refused', failed: true })).toBe('failed');
      expect((await o.latest(['scripts/t'])).get('scripts/t')?.state).toBe('failed');
    });

    it('gives a lapsed claim to the next replayer', async () => {
      const o = catalog.outbox;
      await o.enqueue(put('ratings/r', 'outbox/r1', 'fb3'));
      const [mine] = await o.claim({ owner: 'A', fallback: 'fb3', limit: 1, leaseMs: 50 });
      expect(await o.claim({ owner: 'B', fallback: 'fb3', limit: 1, leaseMs: 50 })).toEqual([]);
      await new Promise((r) => setTimeout(r, 80));
      const [theirs] = await o.claim({ owner: 'B', fallback: 'fb3', limit: 1, leaseMs: 60_000 });
      expect(theirs?.seq).toBe(mine?.seq);
      expect(await o.finish(mine!.seq, 'A', 'done')).toBe(false);
      expect(await o.finish(theirs!.seq, 'B', 'done')).toBe(true);
    });

    if (name === 'PostgreSQL') {
      it('hands disjoint entries to two catalogs claiming at once (FOR UPDATE SKIP LOCKED)', async () => {
        const other = await openCatalog(url);
        try {
          for (let i = 0; i < 200; i++) await catalog.outbox.enqueue(put(`videos/v${i}`, `outbox/v${i}`, 'shared'));
          const claimed: number[][] = [[], []];
          await Promise.all(
            [catalog, other].map(async (c, n) => {
              for (;;) {
                const got = await c.outbox.claim({ owner: `owner${n}`, fallback: 'shared', limit: 7, leaseMs: 60_000 });
                if (got.length === 0) break;
                claimed[n]!.push(...got.map((e) => e.seq));
                for (const e of got) await c.outbox.finish(e.seq, `owner${n}`, 'done');
              }
            }),
          );
          const all = [...claimed[0]!, ...claimed[1]!];
          expect(new Set(all).size).toBe(200);
          expect(all.length).toBe(200);
          expect(claimed[0]!.length).toBeGreaterThan(0);
          expect(claimed[1]!.length).toBeGreaterThan(0);
        } finally {
          await other.close();
        }
      });
    }
  });
}

outboxContract('SQLite', async () => ({ url: join(await tempDir(), 'catalog.sqlite') }));

let pg: PostgresTestServer | undefined;
afterAll(async () => pg?.stop());
outboxContract('PostgreSQL', async () => {
  pg ??= await startPostgres();
  return { url: await pg.newDatabase() };
});
