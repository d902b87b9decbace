import { type Kysely, sql } from 'kysely';
import type { CatalogDb, DialectName } from './dialect.js';

/**
 * Versioned schema steps, applied in order and recorded in `catalog_migrations`. Each
 * step runs inside one transaction that holds a lock, so two processes starting at once
 * apply each step exactly once: PostgreSQL takes a transaction-scoped advisory lock,
 * SQLite a `BEGIN IMMEDIATE` write lock (the other process waits on its busy timeout).
 * Steps are additive only; an older binary ignores steps it does not know.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- DDL runs before the typed tables exist
type AnyDb = Kysely<any>;

interface Step {
  version: number;
  name: string;
  up(db: AnyDb, dialect: DialectName): Promise<void>;
}

/** Arbitrary constant naming "the bucketgate catalog migration" among advisory locks. */
const PG_MIGRATION_LOCK = 0x62_67_63_61_74; // 'bgcat'

function types(dialect: DialectName) {
  const pg = dialect === 'postgres';
  return {
    // Binary (byte-order) collation, so ORDER BY and range bounds on keys agree with the
    // backends' UTF-8 byte order. SQLite's default BINARY collation already is.
    key: pg ? sql`text collate "C"` : sql`text`,
    time: pg ? sql`timestamptz` : sql`integer`,
    big: pg ? sql`bigint` : sql`integer`,
  };
}

const STEPS: readonly Step[] = [
  {
    version: 1,
    name: 'objects, upload tokens, outbox',
    async up(db, dialect) {
      const t = types(dialect);
      await db.schema
        .createTable('objects')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key', t.key, (c) => c.notNull().unique())
        .addColumn('segment', 'text', (c) => c.notNull())
        .addColumn('size', t.big, (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text')
        .addColumn('owner', 'text')
        .addColumn('location', 'text', (c) => c.notNull().defaultTo('primary'))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('objects_segment_key').ifNotExists().on('objects').columns(['segment', 'key']).execute();
      // (owner, key) rather than (owner) alone: an owner's listing is paged in key order.
      await db.schema.createIndex('objects_owner_key').ifNotExists().on('objects').columns(['owner', 'key']).execute();

      await db.schema
        .createTable('upload_tokens')
        .ifNotExists()
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('key', t.key, (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('max_bytes', t.big, (c) => c.notNull())
        .addColumn('owner', 'text')
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addColumn('used_at', t.time)
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('upload_tokens_expires_at').ifNotExists().on('upload_tokens').column('expires_at').execute();

      await db.schema
        .createTable('outbox')
        .ifNotExists()
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('op', 'text', (c) => c.notNull().check(sql`op in ('put', 'delete')`))
        .addColumn('key', t.key, (c) => c.notNull())
        .addColumn('sha256', 'text')
        .addColumn('size', t.big)
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('locked_until', t.time)
        .execute();
      await db.schema.createIndex('outbox_key').ifNotExists().on('outbox').columns(['key', 'id']).execute();
    },
  },
  {
    version: 2,
    name: 'outbox: replay state, fallback blob, claims',
    async up(db, dialect) {
      const t = types(dialect);
      const add = (column: string, type: Parameters<ReturnType<AnyDb['schema']['alterTable']>['addColumn']>[1]) =>
        db.schema.alterTable('outbox').addColumn(column, type).execute();
      await db.schema.alterTable('outbox').addColumn('state', 'text', (c) => c.notNull().defaultTo('pending')).execute();
      await add('blob', 'text');
      await add('content_type', 'text');
      await add('metadata', 'text');
      await add('cache_control', 'text');
      await add('fallback', 'text');
      await add('claimed_by', 'text');
      await add('next_attempt_at', t.time);
      await add('completed_at', t.time);
      // What a replayer looks for: pending entries of its fallback, oldest first.
      await db.schema.createIndex('outbox_state_fallback_id').ifNotExists().on('outbox').columns(['state', 'fallback', 'id']).execute();
    },
  },
];

export const LATEST_VERSION = Math.max(...STEPS.map((s) => s.version));

async function applyPending(db: AnyDb, c: CatalogDb): Promise<number[]> {
  await db.schema
    .createTable('catalog_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('applied_at', types(c.dialect).time, (col) => col.notNull())
    .execute();
  const rows: { version: number }[] = await db.selectFrom('catalog_migrations').select('version').execute();
  const done = new Set(rows.map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const step of STEPS) {
    if (done.has(step.version)) continue;
    await step.up(db, c.dialect);
    await db.insertInto('catalog_migrations').values({ version: step.version, name: step.name, applied_at: c.time(new Date()) }).execute();
    applied.push(step.version);
  }
  return applied;
}

/** Brings the schema up to date; returns the versions it applied (empty when already current). */
export async function migrate(c: CatalogDb): Promise<number[]> {
  if (c.dialect === 'postgres') {
    return c.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${sql.lit(PG_MIGRATION_LOCK)})`.execute(trx);
      return applyPending(trx as AnyDb, c);
    });
  }
  return inProcessTurn(c.file ?? '', () => migrateSqlite(c));
}

/**
 * better-sqlite3 is synchronous: a second connection in the *same* process waiting on the
 * busy timeout blocks the event loop, so the first can never commit. Migrations of one file
 * therefore take turns inside a process; the file lock orders separate processes.
 */
const sqliteTurns = new Map<string, Promise<unknown>>();

function inProcessTurn<T>(file: string, run: () => Promise<T>): Promise<T> {
  const previous = sqliteTurns.get(file) ?? Promise.resolve();
  const mine = previous.catch(() => {}).then(run);
  const settled = mine.catch(() => {});
  sqliteTurns.set(file, settled);
  void settled.then(() => {
    if (sqliteTurns.get(file) === settled) sqliteTurns.delete(file);
  });
  return mine;
}

function migrateSqlite(c: CatalogDb): Promise<number[]> {
  // Kysely's SQLite transactions begin DEFERRED; IMMEDIATE takes the write lock up front
  // so two processes cannot both read "not applied" and then collide.
  return c.db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const applied = await applyPending(conn as AnyDb, c);
      await sql`commit`.execute(conn);
      return applied;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw err;
    }
  });
}
