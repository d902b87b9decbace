import { sql } from 'kysely';
import { type CatalogDb, type DialectName, connect, parseCatalogUrl } from './dialect.js';
import { catalogError, guard } from './failures.js';
import { migrate } from './migrate.js';
import * as objects from './objects.js';
import { CatalogOutbox } from './outbox.js';
import * as tokens from './tokens.js';
import type { Catalog, CatalogListOptions, CatalogObject, CatalogPage, CatalogStats, NewCatalogObject, UploadToken } from './types.js';

export type * from './types.js';
export { parseCatalogUrl } from './dialect.js';

/** The one Catalog implementation: the same Kysely queries on SQLite and PostgreSQL. */
class KyselyCatalog implements Catalog {
  readonly dialect: DialectName;
  readonly outbox: CatalogOutbox;

  constructor(private readonly c: CatalogDb) {
    this.dialect = c.dialect;
    this.outbox = new CatalogOutbox(c);
  }

  async upsertObject(obj: NewCatalogObject): Promise<CatalogObject> {
    const row = await guard('upsert', () => objects.upsertObject(this.c, obj));
    if (row.location !== 'fallback' || row.sha256 === null) return row;
    // The replay may have finished before this row was written (its move then found nothing to move).
    if ((await this.outbox.latest([row.key])).has(row.key)) return row;
    return (await this.moveLocation({ key: row.key, sha256: row.sha256, from: 'fallback', to: 'primary' })) ? { ...row, location: 'primary' } : row;
  }
  getById(id: string): Promise<CatalogObject | undefined> {
    return guard('get', () => objects.getById(this.c, id));
  }
  getByKey(key: string): Promise<CatalogObject | undefined> {
    return guard('get', () => objects.getByKey(this.c, key));
  }
  moveLocation(move: { key: string; sha256: string; from: string; to: string }): Promise<boolean> {
    return guard('update', () => objects.moveLocation(this.c, move));
  }
  deleteByKey(key: string, ifUnchanged?: { updatedAt: Date; etag: string }): Promise<boolean> {
    return guard('delete', () => objects.deleteByKey(this.c, key, ifUnchanged));
  }
  list(opts: CatalogListOptions): Promise<CatalogPage> {
    return guard('list', () => objects.listObjects(this.c, opts));
  }
  stats(filter?: { owner?: string; segments?: readonly string[]; prefix?: string }): Promise<CatalogStats> {
    return guard('stats', () => objects.objectStats(this.c, filter));
  }
  createUploadToken(token: UploadToken): Promise<void> {
    return guard('create token', () => tokens.createUploadToken(this.c, token));
  }
  consumeUploadToken(token: string, now?: Date): Promise<UploadToken | undefined> {
    return guard('consume token', () => tokens.consumeUploadToken(this.c, token, now));
  }
  restoreUploadToken(token: string): Promise<void> {
    return guard('restore token', () => tokens.restoreUploadToken(this.c, token));
  }
  clearObjects(): Promise<void> {
    return guard('clear', () => objects.clearObjects(this.c));
  }
  async ping(): Promise<void> {
    await guard('ping', () => sql`select 1`.execute(this.c.db));
  }
  async close(): Promise<void> {
    await this.c.db.destroy();
  }
}

/**
 * Opens the catalog named by `url` (`postgres://…`, `postgresql://…`, a SQLite file path,
 * `sqlite:<path>` or `:memory:`) and brings its schema up to date.
 */
export async function openCatalog(url: string): Promise<Catalog> {
  const target = parseCatalogUrl(url);
  let c: CatalogDb;
  try {
    c = await connect(target);
  } catch (err) {
    throw catalogError(err, 'open');
  }
  try {
    await migrate(c);
  } catch (err) {
    await c.db.destroy().catch(() => {});
    throw catalogError(err, 'migrate');
  }
  return new KyselyCatalog(c);
}
