import { randomBytes } from 'node:crypto';
import { type CompiledQuery, type Selectable, sql } from 'kysely';
import { StorageError } from '../core/errors.js';
import { checkLimit, decodeCursor, encodeCursor } from '../core/cursor.js';
import type { CatalogDb } from './dialect.js';
import type { ObjectsTable } from './schema.js';
import { assertWellFormed, prefixUpperBound } from './key-order.js';
import { toCatalogObject, toNumber } from './rows.js';
import type { CatalogListOptions, CatalogObject, CatalogPage, CatalogStats, NewCatalogObject } from './types.js';

/** 128 random bits: ids are handed out in URLs and must not be guessable. */
export function newObjectId(): string {
  return randomBytes(16).toString('base64url');
}

function checkObject(obj: NewCatalogObject): void {
  if (typeof obj.key !== 'string' || obj.key === '') throw new StorageError('InvalidArgument', 'catalog object needs a key');
  assertWellFormed(obj.key, 'key');
  if (!Number.isSafeInteger(obj.size) || obj.size < 0) throw new StorageError('InvalidArgument', `object size must be a non-negative integer, got ${obj.size}`);
}

/** One statement on both dialects, so a racing second writer of the same key updates rather than fails, and the id survives. */
export async function upsertObject(c: CatalogDb, obj: NewCatalogObject): Promise<CatalogObject> {
  checkObject(obj);
  const now = c.time(new Date());
  const row = await c.db
    .insertInto('objects')
    .values({
      id: newObjectId(),
      key: obj.key,
      segment: obj.segment,
      size: obj.size,
      content_type: obj.contentType,
      etag: obj.etag,
      sha256: obj.sha256,
      owner: obj.owner,
      location: obj.location,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        segment: eb.ref('excluded.segment'),
        size: eb.ref('excluded.size'),
        content_type: eb.ref('excluded.content_type'),
        etag: eb.ref('excluded.etag'),
        sha256: eb.ref('excluded.sha256'),
        owner: eb.ref('excluded.owner'),
        location: eb.ref('excluded.location'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toCatalogObject(row);
}

/** Records that the bytes of `key` moved from one location to another, if the row still describes that content. */
export async function moveLocation(c: CatalogDb, move: { key: string; sha256: string; from: string; to: string }): Promise<boolean> {
  const result = await c.db
    .updateTable('objects')
    .set({ location: move.to })
    .where('key', '=', move.key)
    .where('location', '=', move.from)
    .where('sha256', '=', move.sha256)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Compiled once per database: every download looks an id up, and building the query each time cost more than running it. */
const byIdQueries = new WeakMap<CatalogDb, CompiledQuery<Selectable<ObjectsTable>>>();

export async function getById(c: CatalogDb, id: string): Promise<CatalogObject | undefined> {
  if (typeof id !== 'string' || id === '') return undefined;
  let byId = byIdQueries.get(c);
  if (!byId) byIdQueries.set(c, (byId = c.db.selectFrom('objects').selectAll().where('id', '=', '').compile()));
  const { rows } = await c.db.executeQuery<Selectable<ObjectsTable>>({ ...byId, parameters: [id] });
  const row = rows[0];
  return row && toCatalogObject(row);
}

export async function getByKey(c: CatalogDb, key: string): Promise<CatalogObject | undefined> {
  if (typeof key !== 'string' || key === '') return undefined;
  assertWellFormed(key, 'key');
  const row = await c.db.selectFrom('objects').selectAll().where('key', '=', key).executeTakeFirst();
  return row && toCatalogObject(row);
}

export async function deleteByKey(c: CatalogDb, key: string, ifUnchanged?: { updatedAt: Date; etag: string }): Promise<boolean> {
  if (typeof key !== 'string' || key === '') return false;
  assertWellFormed(key, 'key');
  let query = c.db.deleteFrom('objects').where('key', '=', key);
  if (ifUnchanged) query = query.where('updated_at', '=', c.time(ifUnchanged.updatedAt)).where('etag', '=', ifUnchanged.etag);
  const result = await query.executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Keyset pagination in byte order: the cursor is the last key returned, so rows added or removed meanwhile never shift a page. */
export async function listObjects(c: CatalogDb, opts: CatalogListOptions): Promise<CatalogPage> {
  const limit = checkLimit(opts.limit);
  const after = decodeCursor(opts.cursor);
  let query = c.db.selectFrom('objects').selectAll();
  if (opts.segment !== undefined) query = query.where('segment', '=', opts.segment);
  if (opts.owner !== undefined) query = query.where('owner', '=', opts.owner);
  if (opts.prefix) {
    assertWellFormed(opts.prefix, 'prefix');
    query = query.where('key', '>=', opts.prefix);
    const upper = prefixUpperBound(opts.prefix);
    if (upper !== undefined) query = query.where('key', '<', upper);
  }
  if (after !== undefined) {
    assertWellFormed(after, 'cursor');
    query = query.where('key', '>', after);
  }
  // One row more than asked tells whether another page exists without a second query.
  const rows = await query.orderBy('key').limit(limit + 1).execute();
  const items = rows.slice(0, limit).map(toCatalogObject);
  const last = items.at(-1);
  return rows.length > limit && last ? { items, cursor: encodeCursor(last.key) } : { items };
}

export async function objectStats(c: CatalogDb, filter: { owner?: string; segments?: readonly string[]; prefix?: string } = {}): Promise<CatalogStats> {
  const stats: CatalogStats = { segments: {}, total: { count: 0, bytes: 0 } };
  if (filter.segments !== undefined && filter.segments.length === 0) return stats;
  let query = c.db
    .selectFrom('objects')
    .select((eb) => ['segment', eb.fn.countAll().as('count'), eb.fn.coalesce(eb.fn.sum('size'), sql.lit(0)).as('bytes')])
    .groupBy('segment')
    .orderBy('segment');
  if (filter.owner !== undefined) query = query.where('owner', '=', filter.owner);
  if (filter.segments !== undefined) query = query.where('segment', 'in', [...filter.segments]);
  if (filter.prefix) {
    assertWellFormed(filter.prefix, 'prefix');
    query = query.where('key', '>=', filter.prefix);
    const upper = prefixUpperBound(filter.prefix);
    if (upper !== undefined) query = query.where('key', '<', upper);
  }
  for (const row of await query.execute()) {
    const entry = { count: toNumber(row.count), bytes: toNumber(row.bytes as number | string) };
    stats.segments[row.segment] = entry;
    stats.total.count += entry.count;
    stats.total.bytes += entry.bytes;
  }
  return stats;
}

export async function clearObjects(c: CatalogDb): Promise<void> {
  await c.db.deleteFrom('objects').execute();
}
