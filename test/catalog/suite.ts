import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../src/backends/local/index.js';
import { connect, parseCatalogUrl } from '../../src/catalog/dialect.js';
import { openCatalog } from '../../src/catalog/index.js';
import { LATEST_VERSION } from '../../src/catalog/migrate.js';
import { reindex } from '../../src/catalog/reindex.js';
import type { Catalog, NewCatalogObject, UploadToken } from '../../src/catalog/types.js';
import { isStorageError } from '../../src/core/errors.js';

/** Where a suite gets its databases: each call gives a new, empty one. */
export interface CatalogHost {
  freshUrl(): Promise<string>;
  stop(): Promise<void>;
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export function obj(key: string, extra: Partial<NewCatalogObject> = {}): NewCatalogObject {
  return {
    key,
    segment: key.split('/')[0] as string,
    size: 10,
    contentType: 'text/plain',
    etag: `"${key.length}"`,
    sha256: null,
    owner: null,
    location: 'primary',
    ...extra,
  };
}

/** A live outbox entry for `key`, as the fallback layer records a diverted write. */
async function waitingOnFallback(catalog: Catalog, key: string, sha256: string): Promise<void> {
  await catalog.outbox.enqueue({ key, op: 'put', blob: `outbox/test.${sha256.slice(0, 8)}`, size: 1, sha256, contentType: null, metadata: null, cacheControl: null, fallback: 'local:/test' });
}

function token(extra: Partial<UploadToken> = {}): UploadToken {
  return {
    token: `tok-${Math.random().toString(36).slice(2)}-${Date.now()}`,
    key: 'uploads/a.txt',
    contentType: 'text/plain',
    maxBytes: 1024,
    owner: 'alice',
    expiresAt: new Date(Date.now() + 60_000),
    ...extra,
  };
}

async function listAll(catalog: Catalog, opts: { limit: number; prefix?: string; segment?: string; owner?: string }): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await catalog.list({ ...opts, cursor });
    expect(page.items.length).toBeLessThanOrEqual(opts.limit);
    keys.push(...page.items.map((o) => o.key));
    cursor = page.cursor;
    if (++pages > 10_000) throw new Error('pagination does not end');
  } while (cursor);
  return keys;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isStorageError(err) ? err.code : err).toBe(code);
}

/** Starts race-worker.ts in its own process; resolves once it has opened the catalog. */
async function startWorker(url: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'race-worker.ts'), url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error(`race worker exited: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return line.value;
  };
  expect(await next()).toBe('ready');
  return {
    async consume(tokens: string[]): Promise<string[]> {
      child.stdin.write(`${JSON.stringify(tokens)}\n`);
      return JSON.parse(await next()) as string[];
    },
    exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
  };
}

/** The catalog contract, run the same way against every dialect. */
export function describeCatalog(name: string, start: () => Promise<CatalogHost>): void {
  describe(`catalog on ${name}`, () => {
    let host: CatalogHost;
    const opened: Catalog[] = [];

    beforeAll(async () => {
      host = await start();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((c) => c.close()));
    });
    afterAll(async () => {
      await host?.stop();
    });

    async function fresh(): Promise<{ catalog: Catalog; url: string }> {
      const url = await host.freshUrl();
      const catalog = await openCatalog(url);
      opened.push(catalog);
      return { catalog, url };
    }
    async function again(url: string): Promise<Catalog> {
      const catalog = await openCatalog(url);
      opened.push(catalog);
      return catalog;
    }

    it('pings and names its dialect', async () => {
      const { catalog } = await fresh();
      await catalog.ping();
      expect(catalog.dialect).toBe(name);
    });

    it('upsert gives a random 128-bit id and keeps it for the same key', async () => {
      const { catalog } = await fresh();
      const first = await catalog.upsertObject(obj('uploads/a.txt', { size: 1 }));
      expect(first.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      await new Promise((r) => setTimeout(r, 5));
      const second = await catalog.upsertObject(obj('uploads/a.txt', { size: 2, etag: '"two"', owner: 'bob', location: 'fallback' }));
      expect(second.id).toBe(first.id);
      expect(second).toMatchObject({ size: 2, etag: '"two"', owner: 'bob', location: 'fallback' });
      expect(second.createdAt.getTime()).toBe(first.createdAt.getTime());
      expect(second.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
      const other = await catalog.upsertObject(obj('uploads/b.txt'));
      expect(other.id).not.toBe(first.id);
    });

    it('racing upserts of one key leave one row with one id', async () => {
      const { catalog } = await fresh();
      const rows = await Promise.all(Array.from({ length: 12 }, (_, i) => catalog.upsertObject(obj('videos/race.mp4', { size: i }))));
      expect(new Set(rows.map((r) => r.id)).size).toBe(1);
      expect((await catalog.list({ limit: 10 })).items).toHaveLength(1);
    });

    it('gets by id and by key with every field intact', async () => {
      const { catalog } = await fresh();
      const big = 5 * 1024 ** 3 + 7; // past 32 bits: bigint on PostgreSQL
      const sha = 'a'.repeat(64);
      const put = await catalog.upsertObject(obj('videos/big.mp4', { size: big, contentType: 'video/mp4', sha256: sha, owner: 'alice' }));
      const byId = await catalog.getById(put.id);
      const byKey = await catalog.getByKey('videos/big.mp4');
      expect(byId).toEqual(put);
      expect(byKey).toEqual(put);
      expect(put).toMatchObject({ key: 'videos/big.mp4', segment: 'videos', size: big, contentType: 'video/mp4', sha256: sha, owner: 'alice', location: 'primary' });
      expect(put.createdAt).toBeInstanceOf(Date);
      expect(Math.abs(put.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect(await catalog.getById('AAAAAAAAAAAAAAAAAAAAAA')).toBeUndefined();
      expect(await catalog.getByKey('videos/none.mp4')).toBeUndefined();
    });

    it('deletes by key, once', async () => {
      const { catalog } = await fresh();
      const row = await catalog.upsertObject(obj('logs/x.log'));
      expect(await catalog.deleteByKey('logs/x.log')).toBe(true);
      expect(await catalog.deleteByKey('logs/x.log')).toBe(false);
      expect(await catalog.getById(row.id)).toBeUndefined();
      expect(await catalog.getByKey('logs/x.log')).toBeUndefined();
    });

    it('deletes by key only the row that was read, when asked (a row rewritten since stays)', async () => {
      const { catalog } = await fresh();
      const read = await catalog.upsertObject(obj('logs/y.log', { etag: '"one"' }));
      await new Promise((r) => setTimeout(r, 5));
      const rewritten = await catalog.upsertObject(obj('logs/y.log', { etag: '"two"' }));
      expect(await catalog.deleteByKey('logs/y.log', { updatedAt: read.updatedAt, etag: read.etag })).toBe(false);
      expect(await catalog.getByKey('logs/y.log')).toEqual(rewritten);
      expect(await catalog.deleteByKey('logs/y.log', { updatedAt: rewritten.updatedAt, etag: rewritten.etag })).toBe(true);
      expect(await catalog.getByKey('logs/y.log')).toBeUndefined();
    });

    it('lists in UTF-8 byte order, with the same order across small pages', async () => {
      const { catalog } = await fresh();
      const keys = [
        'uploads/a-b', 'uploads/a/b', 'uploads/a.b', 'uploads/a', 'uploads/Z', 'uploads/a b', 'uploads/A',
        'uploads/é', 'uploads/e', 'uploads/e\u0301x', 'uploads/~', 'uploads/\u{FF5E}', 'uploads/\u{1F600}',
        'uploads/ß', 'uploads/z', 'uploads/0', 'uploads/_', 'uploads/%',
      ];
      for (const key of keys) await catalog.upsertObject(obj(key));
      const expected = [...keys].sort(byBytes);
      // Byte order, not UTF-16 order: U+FF5E (EF BD 9E) before U+1F600 (F0 9F 98 80).
      expect(expected.indexOf('uploads/\u{FF5E}')).toBeLessThan(expected.indexOf('uploads/\u{1F600}'));
      expect(expected.indexOf('uploads/a-b')).toBeLessThan(expected.indexOf('uploads/a/b'));
      expect(expected.indexOf('uploads/Z')).toBeLessThan(expected.indexOf('uploads/a'));
      expect((await catalog.list({ limit: 1000 })).items.map((o) => o.key)).toEqual(expected);
      expect(await listAll(catalog, { limit: 1 })).toEqual(expected);
      expect(await listAll(catalog, { limit: 4 })).toEqual(expected);
    });

    it('pages through 1,000 rows with nothing lost or repeated', async () => {
      const { catalog } = await fresh();
      const keys = Array.from({ length: 1000 }, (_, i) => `videos/${(i * 7919) % 1000}/${i % 3 === 0 ? 'é' : i % 3 === 1 ? 'E' : '\u{1F3AC}'}-${i}.mp4`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => catalog.upsertObject(obj(k))));
      }
      const expected = [...keys].sort(byBytes);
      for (const limit of [1000, 999, 37]) expect(await listAll(catalog, { limit })).toEqual(expected);
      const whole = await catalog.list({ limit: 1000 });
      expect(whole.items).toHaveLength(1000);
      expect(whole.cursor).toBeUndefined();
    });

    it('keeps its place when rows change between pages', async () => {
      const { catalog } = await fresh();
      for (let i = 0; i < 10; i++) await catalog.upsertObject(obj(`logs/${i}`));
      const first = await catalog.list({ limit: 4 });
      expect(first.items.map((o) => o.key)).toEqual(['logs/0', 'logs/1', 'logs/2', 'logs/3']);
      await catalog.deleteByKey('logs/3');
      await catalog.deleteByKey('logs/4');
      await catalog.upsertObject(obj('logs/00'));
      const rest = await catalog.list({ limit: 100, cursor: first.cursor });
      expect(rest.items.map((o) => o.key)).toEqual(['logs/5', 'logs/6', 'logs/7', 'logs/8', 'logs/9']);
    });

    it('filters by prefix literally: % and _ are not wildcards, case matters', async () => {
      const { catalog } = await fresh();
      const keys = ['uploads/100%/a', 'uploads/100x/a', 'uploads/100%', 'uploads/a_b/1', 'uploads/axb/1', 'uploads/A_B/1', 'uploads/a_b', 'scripts/a_b/1'];
      for (const key of keys) await catalog.upsertObject(obj(key));
      const keysOf = async (prefix: string, segment?: string) => (await catalog.list({ prefix, segment, limit: 100 })).items.map((o) => o.key);
      expect(await keysOf('uploads/100%/')).toEqual(['uploads/100%/a']);
      expect(await keysOf('uploads/100%')).toEqual(['uploads/100%', 'uploads/100%/a']);
      expect(await keysOf('uploads/a_b')).toEqual(['uploads/a_b', 'uploads/a_b/1']);
      expect(await keysOf('uploads/a_b/')).toEqual(['uploads/a_b/1']);
      expect(await keysOf('uploads/A')).toEqual(['uploads/A_B/1']);
      expect(await keysOf('uploads/')).toEqual(keys.filter((k) => k.startsWith('uploads/')).sort(byBytes));
      expect(await keysOf('uploads/a_b/', 'scripts')).toEqual([]);
      expect(await keysOf('', 'scripts')).toEqual(['scripts/a_b/1']);
      expect(await keysOf('nothing/')).toEqual([]);
    });

    it('filters by prefix at code point edges', async () => {
      const { catalog } = await fresh();
      const keys = ['uploads/\u{D7FF}x', 'uploads/\u{E000}', 'uploads/\u{FFFF}z', 'uploads/\u{10000}', 'uploads/\u{10FFFF}', 'uploads/\u{10FFFF}\u{10FFFF}a', 'uploads/é/1', 'uploads/éa'];
      for (const key of keys) await catalog.upsertObject(obj(key));
      for (const prefix of ['uploads/\u{D7FF}', 'uploads/\u{FFFF}', 'uploads/\u{10FFFF}', 'uploads/\u{10FFFF}\u{10FFFF}', 'uploads/é', 'uploads/é/']) {
        const got = await listAll(catalog, { prefix, limit: 2 });
        expect(got, prefix).toEqual(keys.filter((k) => k.startsWith(prefix)).sort(byBytes));
      }
    });

    it('filters by owner and segment, paging within the filter', async () => {
      const { catalog } = await fresh();
      for (let i = 0; i < 9; i++) {
        await catalog.upsertObject(obj(`${i % 2 ? 'uploads' : 'videos'}/f${i}`, { owner: i % 3 === 0 ? 'alice' : 'bob' }));
      }
      expect(await listAll(catalog, { owner: 'alice', limit: 2 })).toEqual(['uploads/f3', 'videos/f0', 'videos/f6']);
      expect(await listAll(catalog, { owner: 'alice', segment: 'videos', limit: 1 })).toEqual(['videos/f0', 'videos/f6']);
      expect(await listAll(catalog, { owner: 'carol', limit: 5 })).toEqual([]);
    });

    it('refuses bad limits and malformed cursors', async () => {
      const { catalog } = await fresh();
      await expectCode(catalog.list({ limit: 0 }), 'InvalidArgument');
      await expectCode(catalog.list({ limit: 1001 }), 'InvalidArgument');
      await expectCode(catalog.list({ limit: 1.5 }), 'InvalidArgument');
      await expectCode(catalog.list({ limit: 10, cursor: 'not a cursor!' }), 'InvalidArgument');
    });

    it('counts and sums per segment and in total, by owner and by segment list', async () => {
      const { catalog } = await fresh();
      expect(await catalog.stats()).toEqual({ segments: {}, total: { count: 0, bytes: 0 } });
      const big = 3 * 1024 ** 3;
      await catalog.upsertObject(obj('videos/a.mp4', { size: big, owner: 'alice' }));
      await catalog.upsertObject(obj('videos/b.mp4', { size: big, owner: 'bob' }));
      await catalog.upsertObject(obj('uploads/a.txt', { size: 5, owner: 'alice' }));
      await catalog.upsertObject(obj('uploads/b.txt', { size: 0 }));
      await catalog.upsertObject(obj('logs/x.log', { size: 7, owner: 'alice' }));
      expect(await catalog.stats()).toEqual({
        segments: { logs: { count: 1, bytes: 7 }, uploads: { count: 2, bytes: 5 }, videos: { count: 2, bytes: 2 * big } },
        total: { count: 5, bytes: 2 * big + 12 },
      });
      expect(await catalog.stats({ owner: 'alice' })).toEqual({
        segments: { logs: { count: 1, bytes: 7 }, uploads: { count: 1, bytes: 5 }, videos: { count: 1, bytes: big } },
        total: { count: 3, bytes: big + 12 },
      });
      expect(await catalog.stats({ segments: ['uploads', 'videos', 'ratings'] })).toEqual({
        segments: { uploads: { count: 2, bytes: 5 }, videos: { count: 2, bytes: 2 * big } },
        total: { count: 4, bytes: 2 * big + 5 },
      });
      expect(await catalog.stats({ owner: 'bob', segments: ['uploads'] })).toEqual({ segments: {}, total: { count: 0, bytes: 0 } });
      expect(await catalog.stats({ segments: [] })).toEqual({ segments: {}, total: { count: 0, bytes: 0 } });
    });

    it('clears every object row', async () => {
      const { catalog } = await fresh();
      await catalog.upsertObject(obj('logs/a'));
      await catalog.upsertObject(obj('videos/b'));
      await catalog.clearObjects();
      expect((await catalog.stats()).total).toEqual({ count: 0, bytes: 0 });
    });

    it('upload tokens are single-use and stored only as their SHA-256', async () => {
      const { catalog, url } = await fresh();
      const t = token({ maxBytes: 6 * 1024 ** 3, owner: null });
      await catalog.createUploadToken(t);
      const got = await catalog.consumeUploadToken(t.token);
      expect(got).toEqual({ ...t, expiresAt: t.expiresAt, createdAt: expect.any(Date) });
      expect(got?.expiresAt.getTime()).toBe(t.expiresAt.getTime());
      expect(await catalog.consumeUploadToken(t.token)).toBeUndefined();
      // Given back by the request that consumed it (refused before its body): usable once more.
      await catalog.restoreUploadToken(t.token);
      expect(await catalog.consumeUploadToken(t.token)).toMatchObject({ key: t.key });
      expect(await catalog.consumeUploadToken(t.token)).toBeUndefined();
      expect(await catalog.consumeUploadToken('never-issued')).toBeUndefined();
      expect(await catalog.consumeUploadToken('')).toBeUndefined();
      // Nothing in the table can be presented as the token itself.
      const raw = await connect(parseCatalogUrl(url));
      try {
        const rows = await raw.db.selectFrom('upload_tokens').selectAll().execute();
        expect(rows).toHaveLength(1);
        expect(rows[0]?.token_hash).toBe(createHash('sha256').update(t.token).digest('hex'));
        expect(JSON.stringify(rows)).not.toContain(t.token);
        expect(rows[0]?.used_at).not.toBeNull();
      } finally {
        await raw.db.destroy();
      }
    });

    it('an expired token is refused, also at the exact expiry instant', async () => {
      const { catalog } = await fresh();
      const past = token({ expiresAt: new Date(Date.now() - 1000) });
      await catalog.createUploadToken(past);
      expect(await catalog.consumeUploadToken(past.token)).toBeUndefined();
      const soon = token({ expiresAt: new Date(Date.now() + 60_000) });
      await catalog.createUploadToken(soon);
      expect(await catalog.consumeUploadToken(soon.token, soon.expiresAt)).toBeUndefined();
      expect(await catalog.consumeUploadToken(soon.token, new Date(soon.expiresAt.getTime() + 1))).toBeUndefined();
      // Refusing it did not use it up.
      expect(await catalog.consumeUploadToken(soon.token, new Date(soon.expiresAt.getTime() - 1))).toMatchObject({ key: soon.key });
    });

    it('refuses a second token with the same secret', async () => {
      const { catalog } = await fresh();
      const t = token();
      await catalog.createUploadToken(t);
      await expectCode(catalog.createUploadToken(t), 'AlreadyExists');
    });

    it('20 racing consumers: exactly one wins', async () => {
      const { catalog } = await fresh();
      for (let round = 0; round < 5; round++) {
        const t = token();
        await catalog.createUploadToken(t);
        const results = await Promise.all(Array.from({ length: 20 }, () => catalog.consumeUploadToken(t.token)));
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    });

    it('two separate connections racing: exactly one wins each token', async () => {
      const { catalog: a, url } = await fresh();
      const b = await again(url);
      const tokens = Array.from({ length: 25 }, () => token());
      for (const t of tokens) await a.createUploadToken(t);
      const results = await Promise.all(tokens.flatMap((t) => [a, b, a, b].map((c) => c.consumeUploadToken(t.token))));
      for (let i = 0; i < tokens.length; i++) {
        expect(results.slice(i * 4, i * 4 + 4).filter(Boolean), `token ${i}`).toHaveLength(1);
      }
    });

    it('migrations are idempotent: reopening keeps data; opening at once migrates once', async () => {
      const { catalog, url } = await fresh();
      const row = await catalog.upsertObject(obj('ratings/r.json'));
      await catalog.close();
      opened.splice(opened.indexOf(catalog), 1);
      const reopened = await again(url);
      expect(await reopened.getById(row.id)).toEqual(row);

      const url2 = await host.freshUrl();
      const many = await Promise.all([openCatalog(url2), openCatalog(url2), openCatalog(url2)]);
      opened.push(...many);
      const raw = await connect(parseCatalogUrl(url2));
      try {
        const versions = await raw.db.selectFrom('catalog_migrations').select('version').execute();
        // Each step recorded once, all of them.
        expect(versions.map((v) => Number(v.version)).sort((a, b) => a - b)).toEqual(Array.from({ length: LATEST_VERSION }, (_, i) => i + 1));
      } finally {
        await raw.db.destroy();
      }
      await many[0]?.upsertObject(obj('logs/one'));
      expect((await many[2]?.getByKey('logs/one'))?.key).toBe('logs/one');
    });

    it('two processes: migrate a fresh database at once, then race for the same tokens', async () => {
      const url = await host.freshUrl();
      const workers = await Promise.all([startWorker(url), startWorker(url)]);
      const catalog = await again(url);
      const tokens = Array.from({ length: 40 }, () => token());
      for (const t of tokens) await catalog.createUploadToken(t);
      const secrets = tokens.map((t) => t.token);
      const [won1, won2] = await Promise.all(workers.map((w) => w.consume(secrets)));
      expect([...(won1 ?? []), ...(won2 ?? [])].sort()).toEqual([...secrets].sort());
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
    });

    describe('reindex from the local disk backend', () => {
      let root: string;
      beforeAll(async () => {
        root = await mkdtemp(join(tmpdir(), 'bucketgate-reindex-'));
      });
      afterAll(async () => {
        await rm(root, { recursive: true, force: true });
      });

      it('moves a row to another location only while it still describes the same content', async () => {
        const { catalog } = await fresh();
        await waitingOnFallback(catalog, 'videos/held.bin', 'a'.repeat(64));
        const row = await catalog.upsertObject(obj('videos/held.bin', { sha256: 'a'.repeat(64), location: 'fallback' }));
        expect(await catalog.moveLocation({ key: row.key, sha256: 'b'.repeat(64), from: 'fallback', to: 'primary' })).toBe(false);
        expect(await catalog.moveLocation({ key: 'videos/other.bin', sha256: 'a'.repeat(64), from: 'fallback', to: 'primary' })).toBe(false);
        expect((await catalog.getByKey(row.key))?.location).toBe('fallback');
        expect(await catalog.moveLocation({ key: row.key, sha256: 'a'.repeat(64), from: 'fallback', to: 'primary' })).toBe(true);
        expect(await catalog.getByKey(row.key)).toMatchObject({ id: row.id, location: 'primary', updatedAt: row.updatedAt });
        expect(await catalog.moveLocation({ key: row.key, sha256: 'a'.repeat(64), from: 'fallback', to: 'primary' })).toBe(false);
      });

      it('records a fallback row as primary when its replay finished before the row was written', async () => {
        const { catalog } = await fresh();
        const row = await catalog.upsertObject(obj('videos/quick.bin', { sha256: 'd'.repeat(64), location: 'fallback' }));
        expect(row.location).toBe('primary');
        expect((await catalog.getByKey(row.key))?.location).toBe('primary');
      });

      it('reindex: a fallback row whose content the backend now holds is moved to primary; one with other content is left', async () => {
        const backend = await createLocalBackend({ root: join(root, `${name}-moved`), fsync: false });
        try {
          const { catalog } = await fresh();
          const replayed = await backend.put('videos/replayed.bin', Readable.from([Buffer.from('same bytes')]));
          const older = await backend.put('videos/older.bin', Readable.from([Buffer.from('old bytes')]));
          // Both still waiting in the outbox when their rows are written (a crash then lost the replay's update).
          await waitingOnFallback(catalog, replayed.key, replayed.sha256!);
          await waitingOnFallback(catalog, older.key, 'c'.repeat(64));
          await catalog.upsertObject(obj(replayed.key, { size: replayed.size, etag: replayed.etag, sha256: replayed.sha256!, contentType: replayed.contentType, location: 'fallback' }));
          const newer = await catalog.upsertObject(obj(older.key, { size: 9, sha256: 'c'.repeat(64), location: 'fallback' }));
          await reindex(catalog, backend, { segments: ['videos'] });
          expect((await catalog.getByKey(replayed.key))?.location).toBe('primary');
          expect(await catalog.getByKey(older.key)).toEqual(newer);
        } finally {
          await backend.close();
        }
      });

      it('rebuilds rows, keeps known ids and owners, removes stale rows, leaves fallback rows the outbox still holds', async () => {
        const backend = await createLocalBackend({ root: join(root, name), fsync: false });
        try {
          const { catalog } = await fresh();
          const keys = Array.from({ length: 23 }, (_, i) => `${i % 2 ? 'uploads' : 'videos'}/${i % 3 ? 'é' : 'e'}/f${i}.bin`);
          for (const [i, key] of keys.entries()) await backend.put(key, Readable.from([Buffer.alloc(i, 1)]), { contentType: 'application/octet-stream' });
          // Known key with an owner the backend does not know; stale rows before, between and after the real keys.
          const known = await catalog.upsertObject(obj(keys[4] as string, { size: 999, owner: 'alice' }));
          const stale = ['uploads/0-gone', 'uploads/é/f0.bin~', 'uploads/\u{FFFF}', 'videos/e/f0', 'videos/zzz'];
          for (const key of stale) await catalog.upsertObject(obj(key));
          // Waiting in the outbox, pending or failed (its bytes still on the fallback): kept.
          // Replayed (entry done) or never entered, and the backend lacks the key: removed.
          await waitingOnFallback(catalog, 'videos/parked.bin', 'e'.repeat(64));
          const parked = await catalog.upsertObject(obj('videos/parked.bin', { location: 'fallback' }));
          await waitingOnFallback(catalog, 'videos/failed.bin', 'f'.repeat(64));
          const [failing] = await catalog.outbox.claim({ owner: 'test', fallback: 'local:/test', limit: 10, leaseMs: 60_000 }).then((all) => all.filter((e) => e.key === 'videos/failed.bin'));
          await catalog.outbox.release(failing!.seq, 'test', { error: 'gave up', failed: true });
          const failed = await catalog.upsertObject(obj('videos/failed.bin', { location: 'fallback' }));
          await waitingOnFallback(catalog, 'videos/replayed.bin', 'a'.repeat(64));
          const [replaying] = await catalog.outbox.claim({ owner: 'test', fallback: 'local:/test', limit: 10, leaseMs: 60_000 }).then((all) => all.filter((e) => e.key === 'videos/replayed.bin'));
          expect(await catalog.outbox.finish(replaying!.seq, 'test', 'done')).toBe(true);
          await catalog.upsertObject(obj('videos/replayed.bin', { location: 'fallback' }));
          await catalog.upsertObject(obj('videos/orphan.bin', { location: 'fallback' }));

          const result = await reindex(catalog, backend, { segments: ['uploads', 'videos', 'logs'], pageSize: 3 });
          expect(result).toEqual({ objects: 23, bytes: (22 * 23) / 2, removed: stale.length + 2 });
          expect(await catalog.getByKey('videos/orphan.bin')).toBeUndefined();
          expect(await catalog.getByKey('videos/replayed.bin')).toBeUndefined();
          expect(await catalog.getByKey('videos/failed.bin')).toEqual(failed);
          const rows = await listAll(catalog, { limit: 1000 });
          expect(rows).toEqual([...keys, parked.key, failed.key].sort(byBytes));
          const kept = await catalog.getByKey(known.key);
          expect(kept).toMatchObject({ id: known.id, owner: 'alice', size: 4, contentType: 'application/octet-stream', location: 'primary' });
          expect(await catalog.getById(parked.id)).toEqual(parked);

          // Again: nothing to add or remove, ids unchanged.
          const before = await Promise.all(keys.map((k) => catalog.getByKey(k)));
          expect(await reindex(catalog, backend, { segments: ['uploads', 'videos', 'logs'] })).toEqual({ ...result, removed: 0 });
          expect(await Promise.all(keys.map((k) => catalog.getByKey(k)))).toEqual(before);

          // A deleted object's row goes; a changed one is updated in place.
          await backend.delete(keys[0] as string);
          await backend.put(keys[1] as string, Readable.from([Buffer.from('changed')]), { contentType: 'text/plain' });
          const again2 = await reindex(catalog, backend, { segments: ['uploads', 'videos'] });
          expect(again2.removed).toBe(1);
          expect(await catalog.getByKey(keys[0] as string)).toBeUndefined();
          expect(await catalog.getByKey(keys[1] as string)).toMatchObject({ id: before[1]?.id, size: 7, contentType: 'text/plain' });
        } finally {
          await backend.close();
        }
      });
    });
  });
}
