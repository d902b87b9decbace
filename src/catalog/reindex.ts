import type { Backend } from '../core/backend.js';
import { isStorageError } from '../core/errors.js';
import type { ObjectInfo } from '../core/types.js';
import { compareUtf8 } from './key-order.js';
import type { Catalog, CatalogObject } from './types.js';

/** The `location` the fallback layer gives what it holds (ObjectInfo.location). */
const FALLBACK = 'fallback';

export interface ReindexOptions {
  segments: readonly string[];
  /** Which backend `backend` is, as recorded in rows' `location` (default `primary`). */
  location?: string;
  /** Objects per listing page, both sides (default 1000, the most a page may hold). */
  pageSize?: number;
}

export interface ReindexResult {
  /** Objects found in the backend (and now in the catalog). */
  objects: number;
  bytes: number;
  /** Rows removed because their key is no longer in the backend. */
  removed: number;
}

async function* backendObjects(backend: Backend, prefix: string, limit: number): AsyncGenerator<ObjectInfo> {
  let cursor: string | undefined;
  do {
    const page = await backend.list(prefix, { cursor, limit });
    yield* page.objects;
    cursor = page.cursor;
  } while (cursor);
}

async function* catalogRows(catalog: Catalog, prefix: string, limit: number): AsyncGenerator<CatalogObject> {
  let cursor: string | undefined;
  do {
    const page = await catalog.list({ prefix, cursor, limit });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}

function unchanged(row: CatalogObject, info: ObjectInfo, segment: string, location: string): boolean {
  return (
    row.segment === segment &&
    row.size === info.size &&
    row.etag === info.etag &&
    row.contentType === info.contentType &&
    row.sha256 === (info.sha256 ?? row.sha256) &&
    row.location === location
  );
}

/**
 * A row that describes bytes held at another location (the fallback) is left alone when the
 * listing does not say where it is, unless the content is the same: its replay has finished.
 */
function heldElsewhere(row: CatalogObject, info: ObjectInfo, where: string): boolean {
  if (row.location === where || info.location !== undefined) return false;
  return !(row.sha256 !== null && row.sha256 === info.sha256);
}

/**
 * Rebuilds the catalog's rows for `segments` from what `backend` holds (DESIGN §3: the
 * backend holds the bytes, the catalog is an index of them).
 *
 * Both listings come sorted in UTF-8 byte order, so one merge walk over them, page by
 * page, finds new, changed and stale rows in constant memory however many objects there
 * are. Known keys keep their id (and owner, which the backend does not know). A stale row
 * is removed only after `head` confirms the object is gone, so an upload that lands while
 * reindex runs is not dropped. Rows recorded at another location (e.g. on the fallback,
 * waiting for the outbox) are left alone unless the listing says where their bytes are now
 * (through the fallback layer, which lists what waits in the outbox) or shows the same content
 * here (replayed); a fallback row with no live outbox entry left is removed like a stale one
 * when the backend does not hold its key.
 */
export async function reindex(catalog: Catalog, backend: Backend, opts: ReindexOptions): Promise<ReindexResult> {
  const location = opts.location ?? 'primary';
  const pageSize = opts.pageSize ?? 1000;
  const result: ReindexResult = { objects: 0, bytes: 0, removed: 0 };

  const removeIfGone = async (row: CatalogObject) => {
    // A row of the fallback is its replay's to settle while the outbox holds a live entry for
    // the key (pending, or failed: its bytes still wait on the fallback, and reads find them).
    // With none left (replayed, superseded, or the entry gone), it is judged like any other row.
    if (row.location !== location && (row.location !== FALLBACK || (await catalog.outbox.latest([row.key])).has(row.key))) return;
    try {
      await backend.head(row.key);
      return; // It appeared after the backend listing passed it; keep the row.
    } catch (err) {
      if (!isStorageError(err, 'NotFound')) throw err;
    }
    // Only the row that was judged: an upload landing between the head and here rewrote it, and keeps it.
    if (await catalog.deleteByKey(row.key, { updatedAt: row.updatedAt, etag: row.etag })) result.removed += 1;
  };

  for (const segment of opts.segments) {
    const prefix = `${segment}/`;
    const rows = catalogRows(catalog, prefix, pageSize);
    let row = await rows.next();
    for await (const info of backendObjects(backend, prefix, pageSize)) {
      result.objects += 1;
      result.bytes += info.size;
      while (!row.done && compareUtf8(row.value.key, info.key) < 0) {
        await removeIfGone(row.value);
        row = await rows.next();
      }
      let known: CatalogObject | undefined;
      if (!row.done && row.value.key === info.key) {
        known = row.value;
        row = await rows.next();
      }
      // Where the listing says the bytes are: the fallback for what still waits there, else this backend.
      const where = info.location ?? location;
      if (known && (heldElsewhere(known, info, where) || unchanged(known, info, segment, where))) continue;
      await catalog.upsertObject({
        key: info.key,
        segment,
        size: info.size,
        contentType: info.contentType,
        etag: info.etag,
        sha256: info.sha256 ?? known?.sha256 ?? null,
        owner: known?.owner ?? null,
        location: where,
      });
    }
    for (; !row.done; row = await rows.next()) await removeIfGone(row.value);
  }
  return result;
}
