import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openCatalog, parseCatalogUrl } from '../catalog/index.js';
import { type ReindexResult, reindex } from '../catalog/reindex.js';
import type { Catalog } from '../catalog/types.js';
import type { Config } from '../config/index.js';
import type { Backend } from '../core/backend.js';
import { StorageError } from '../core/errors.js';

/**
 * Where a catalog lives, spelled one way: PostgreSQL by user, host, port and database (not by
 * the URL's spelling: `postgresql://` and `postgres://`, a default port, query options); SQLite
 * by the file's real path (symlinks followed). Two configurations that name the same database
 * get the same answer.
 */
export function catalogIdentity(databaseUrl: string): string {
  const target = parseCatalogUrl(databaseUrl);
  if (target.dialect === 'postgres') {
    const url = new URL(target.url);
    const user = decodeURIComponent(url.username);
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || user;
    return `postgres://${user}@${url.hostname.toLowerCase()}:${url.port || '5432'}/${database}`;
  }
  if (target.path === ':memory:') return `memory:${Math.random()}`; // never shared
  const file = resolve(target.path);
  if (existsSync(file)) return realpathSync(file);
  const dir = dirname(file);
  return existsSync(dir) ? join(realpathSync(dir), basename(file)) : file;
}

/**
 * The catalog the target's variables name (DATABASE_URL, else the SQLite file in its
 * BHIV_BUCKET_PATH), opened before anything is copied so that a wrong address fails at once.
 * Refused when it is the source's own: that catalog already indexes the objects (with their
 * ids), and rebuilding it from the target would drop the rows of whatever was not copied.
 */
export async function openTargetCatalog(source: Config, target: Config): Promise<Catalog> {
  if (catalogIdentity(source.databaseUrl) === catalogIdentity(target.databaseUrl)) {
    throw new StorageError('InvalidArgument', '--reindex: the source and the target share one catalog, which already indexes these objects (with their ids); nothing to rebuild');
  }
  const catalog = await openCatalog(target.databaseUrl);
  try {
    await catalog.ping();
    return catalog;
  } catch (err) {
    await catalog.close().catch(() => undefined);
    throw err;
  }
}

/** As `bucketgate reindex` run with the target's variables: rows follow the target, known keys keep their ids. */
export function reindexTarget(catalog: Catalog, backend: Backend, segments: string[]): Promise<ReindexResult> {
  return reindex(catalog, backend, { segments });
}
