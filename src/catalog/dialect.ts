import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { StorageError } from '../core/errors.js';
import type { CatalogSchema } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface CatalogDb {
  db: Kysely<CatalogSchema>;
  dialect: DialectName;
  /** SQLite: the database file's absolute path (`:memory:` for an in-memory one). */
  file?: string;
  /** How a Date is written: integer ms on SQLite (compares right as a number), a Date (timestamptz) on PostgreSQL. */
  time(d: Date): Date | number;
}

export type CatalogTarget = { dialect: 'postgres'; url: string } | { dialect: 'sqlite'; path: string };

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** `postgres://…`, `postgresql://…`, `sqlite:<path>`, `:memory:` or a plain file path. */
export function parseCatalogUrl(url: string): CatalogTarget {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new StorageError('ConfigInvalid', 'DATABASE_URL: expected a postgres:// URL or a SQLite file path');
  }
  if (POSTGRES_URL.test(url)) return { dialect: 'postgres', url };
  if (/^sqlite:/i.test(url)) {
    // `sqlite:path`, `sqlite://relative`, `sqlite:///absolute`.
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (path === '') throw new StorageError('ConfigInvalid', 'DATABASE_URL: sqlite: needs a file path');
    return { dialect: 'sqlite', path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new StorageError('ConfigInvalid', 'DATABASE_URL: expected a postgres:// URL or a SQLite file path');
  }
  return { dialect: 'sqlite', path: url };
}

export async function connect(target: CatalogTarget): Promise<CatalogDb> {
  return target.dialect === 'postgres' ? connectPostgres(target.url) : connectSqlite(target.path);
}

/**
 * Kysely prepares every query anew, and parsing and planning the SQL was ~20% of the CPU of
 * a small download (two catalog lookups). better-sqlite3 statements can be run any number of
 * times, so they are kept by SQL text: the catalog has a few dozen distinct queries (the map
 * is bounded anyway). Nothing here streams rows (`iterate`), so a cached statement is never
 * busy when it is run again.
 */
function withStatementCache(database: SqliteDatabase): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = database.prepare(sql);
        if (statements.size >= 256) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

async function connectSqlite(path: string): Promise<CatalogDb> {
  // Loaded on demand so a PostgreSQL deployment never loads the native SQLite module, and vice versa.
  const { default: Database } = await import('better-sqlite3');
  const memory = path === ':memory:';
  if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const file = memory ? ':memory:' : resolve(path);
  const database = new Database(file);
  // WAL lets readers run beside the one writer; the busy timeout makes a second process
  // wait for the write lock instead of failing at once. FULL sync because the outbox in
  // this file records writes that must survive a power cut.
  if (!memory) database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('synchronous = FULL');
  const db = new Kysely<CatalogSchema>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return { db, dialect: 'sqlite', file, time: (d) => d.getTime() };
}

async function connectPostgres(url: string): Promise<CatalogDb> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client losing its server (restart, failover) is reported here; without a
  // listener it would crash the process. The next query gets a fresh client.
  pool.on('error', () => {});
  const db = new Kysely<CatalogSchema>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', time: (d) => d };
}
