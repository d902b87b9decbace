import { type Selectable, type Transaction, sql } from 'kysely';
import type { ClaimOptions, NewOutboxEntry, Outbox, OutboxEntry, OutboxState, OutboxStats, ReleasedAs } from '../layers/outbox.js';
import type { CatalogDb } from './dialect.js';
import { guard } from './failures.js';
import { assertWellFormed, prefixUpperBound } from './key-order.js';
import { toDate, toNumber } from './rows.js';
import type { CatalogSchema, OutboxTable } from './schema.js';

/**
 * The fallback layer's durable outbox (layers/outbox.ts has the rules) on the catalog's
 * `outbox` table. Claims are row locks: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` in a
 * transaction, so two instances claiming at once take disjoint entries; on SQLite the whole
 * claim runs under `BEGIN IMMEDIATE` (one writer at a time, across processes). Either way the
 * claim itself is a lease in `claimed_by` + `locked_until`, so a crashed replayer's entries
 * come back once it lapses.
 */
const LIVE: OutboxState[] = ['pending', 'failed'];
/** SQLite allows 32766 bound parameters; keep IN lists far below. */
// `id` is typed Generated<BigCount> in schema.ts (a ColumnType inside a ColumnType), so Kysely
// cannot type its operands; ids are plain numbers here, passed `as never`.
const IN_CHUNK = 500;

type Row = Selectable<OutboxTable>;
type Db = CatalogDb['db'] | Transaction<CatalogSchema>;

function toEntry(row: Row): OutboxEntry {
  return {
    seq: toNumber(row.id as unknown as number),
    key: row.key,
    op: row.op,
    blob: row.blob,
    size: row.size === null ? null : toNumber(row.size),
    sha256: row.sha256,
    contentType: row.content_type,
    metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, string>) : null,
    cacheControl: row.cache_control,
    fallback: row.fallback ?? '',
    state: row.state as OutboxState,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    claimedBy: row.claimed_by,
    claimExpiresAt: row.locked_until === null ? null : toDate(row.locked_until),
    createdAt: toDate(row.created_at),
    completedAt: row.completed_at === null ? null : toDate(row.completed_at),
  };
}

/** Newest entry per key, from rows sorted by key then id descending. */
function newestPerKey(rows: Row[]): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const row of rows) if (out.at(-1)?.key !== row.key) out.push(toEntry(row));
  return out;
}

export class CatalogOutbox implements Outbox {
  constructor(private readonly c: CatalogDb) {}

  private now(): Date | number {
    return this.c.time(new Date());
  }

  /** Runs `work` as one write transaction: BEGIN IMMEDIATE on SQLite, a plain transaction on PostgreSQL. */
  private async write<T>(work: (db: Db) => Promise<T>): Promise<T> {
    if (this.c.dialect === 'postgres') return this.c.db.transaction().execute(work);
    return this.c.db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await work(conn);
        await sql`commit`.execute(conn);
        return result;
      } catch (err) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw err;
      }
    });
  }

  enqueue(entry: NewOutboxEntry): Promise<{ entry: OutboxEntry; superseded: OutboxEntry[] }> {
    assertWellFormed(entry.key, 'key');
    return guard('outbox enqueue', () =>
      this.write(async (db) => {
        const now = this.now();
        const row = await db
          .insertInto('outbox')
          .values({
            op: entry.op,
            key: entry.key,
            blob: entry.blob,
            size: entry.size,
            sha256: entry.sha256,
            content_type: entry.contentType,
            metadata: entry.metadata ? JSON.stringify(entry.metadata) : null,
            cache_control: entry.cacheControl,
            fallback: entry.fallback,
            state: 'pending',
            created_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        // Older entries of the key nobody is replaying right now are moot: this one decides.
        const superseded = await db
          .updateTable('outbox')
          .set({ state: 'superseded', completed_at: now })
          .where('key', '=', entry.key)
          .where('id', '<', row.id as never)
          .where('state', 'in', LIVE)
          .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
          .returningAll()
          .execute();
        return { entry: toEntry(row), superseded: superseded.map(toEntry) };
      }),
    );
  }

  latest(keys: readonly string[]): Promise<Map<string, OutboxEntry>> {
    return guard('outbox read', async () => {
      const found = new Map<string, OutboxEntry>();
      for (let i = 0; i < keys.length; i += IN_CHUNK) {
        const chunk = keys.slice(i, i + IN_CHUNK);
        const rows = await this.c.db.selectFrom('outbox').selectAll().where('key', 'in', chunk).where('state', 'in', LIVE).orderBy('key').orderBy('id', 'desc').execute();
        for (const e of newestPerKey(rows)) found.set(e.key, e);
      }
      return found;
    });
  }

  liveUnder(prefix: string, range: { after?: string; through?: string; limit: number }): Promise<OutboxEntry[]> {
    return guard('outbox read', async () => {
      let query = this.c.db.selectFrom('outbox').selectAll().where('state', 'in', LIVE);
      if (prefix) {
        query = query.where('key', '>=', prefix);
        const upper = prefixUpperBound(prefix);
        if (upper !== undefined) query = query.where('key', '<', upper);
      }
      if (range.after !== undefined) query = query.where('key', '>', range.after);
      if (range.through !== undefined) query = query.where('key', '<=', range.through);
      const rows = await query.orderBy('key').orderBy('id', 'desc').limit(range.limit).execute();
      return newestPerKey(rows);
    });
  }

  claim(opts: ClaimOptions): Promise<OutboxEntry[]> {
    return guard('outbox claim', () =>
      this.write(async (db) => {
        const now = this.c.time(opts.now ?? new Date());
        let query = db
          .selectFrom('outbox as o')
          .selectAll('o')
          .where('o.state', '=', 'pending')
          .where('o.fallback', '=', opts.fallback)
          .where((eb) => eb.or([eb('o.locked_until', 'is', null), eb('o.locked_until', '<', now)]))
          .where((eb) => eb.or([eb('o.next_attempt_at', 'is', null), eb('o.next_attempt_at', '<=', now)]))
          // Per-key order: never a key whose older entry is still pending (maybe being replayed elsewhere).
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('outbox as p')
                  .select(sql.lit(1).as('one'))
                  .whereRef('p.key', '=', 'o.key')
                  .whereRef('p.id', '<', 'o.id')
                  .where('p.state', '=', 'pending'),
              ),
            ),
          )
          .orderBy('o.id')
          .limit(opts.limit);
        if (this.c.dialect === 'postgres') query = query.forUpdate().skipLocked();
        const rows = await query.execute();
        if (rows.length === 0) return [];
        const until = this.c.time(new Date((opts.now ?? new Date()).getTime() + opts.leaseMs));
        const claimed = await db
          .updateTable('outbox')
          .set({ claimed_by: opts.owner, locked_until: until })
          .where('id', 'in', rows.map((r) => r.id) as never)
          .returningAll()
          .execute();
        return claimed.map(toEntry).sort((a, b) => a.seq - b.seq);
      }),
    );
  }

  renew(seqs: readonly number[], owner: string, leaseMs: number): Promise<number[]> {
    if (seqs.length === 0) return Promise.resolve([]);
    return guard('outbox renew', async () => {
      const rows = await this.c.db
        .updateTable('outbox')
        .set({ locked_until: this.c.time(new Date(Date.now() + leaseMs)) })
        .where('id', 'in', [...seqs] as never)
        .where('claimed_by', '=', owner)
        .where('state', '=', 'pending')
        .returning('id')
        .execute();
      return rows.map((r) => toNumber(r.id as number));
    });
  }

  finish(seq: number, owner: string, state: 'done' | 'superseded'): Promise<boolean> {
    return guard('outbox finish', () =>
      this.write(async (db) => {
        const now = this.now();
        const result = await db
          .updateTable('outbox')
          .set({ state, completed_at: now, locked_until: null })
          .where('id', '=', seq as never)
          .where('claimed_by', '=', owner)
          .where('state', '=', 'pending')
          .returning('key')
          .executeTakeFirst();
        if (!result) return false;
        // Older entries of the key parked as failed are moot once a newer one is replayed: left
        // live, reads would serve their older bytes. (release() ends them so when it sees the newer
        // entry; on PostgreSQL it may not have, if that entry was enqueued in the meantime.)
        if (state === 'done') {
          await db
            .updateTable('outbox')
            .set({ state: 'superseded', completed_at: now })
            .where('key', '=', result.key)
            .where('id', '<', seq as never)
            .where('state', '=', 'failed')
            .execute();
        }
        return true;
      }),
    );
  }

  release(seq: number, owner: string, outcome: { error: string; retryAt?: Date; failed?: boolean; attempt?: boolean }): Promise<ReleasedAs | undefined> {
    return guard('outbox release', () =>
      this.write(async (db) => {
        let state: ReleasedAs = outcome.failed ? 'failed' : 'pending';
        if (state === 'failed') {
          // A write accepted after this one decides the key's content: this entry is moot, not
          // failed — a failed entry stays live, and reads would serve its older bytes.
          const newer = await db
            .selectFrom('outbox as n')
            .innerJoin('outbox as o', 'o.key', 'n.key')
            .select('n.id')
            .where('o.id', '=', seq as never)
            .whereRef('n.id', '>', 'o.id')
            .limit(1)
            .executeTakeFirst();
          if (newer) state = 'superseded';
        }
        const result = await db
          .updateTable('outbox')
          .set((eb) => ({
            state,
            last_error: outcome.error.slice(0, 1000),
            attempts: outcome.attempt === false ? eb.ref('attempts') : eb('attempts', '+', 1),
            locked_until: null,
            next_attempt_at: outcome.retryAt ? this.c.time(outcome.retryAt) : null,
            ...(state === 'superseded' ? { completed_at: this.now() } : {}),
          }))
          .where('id', '=', seq as never)
          .where('claimed_by', '=', owner)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        return result.numUpdatedRows > 0n ? state : undefined;
      }),
    );
  }

  stats(fallback?: string): Promise<OutboxStats> {
    return guard('outbox stats', async () => {
      const now = this.now();
      let query = this.c.db
        .selectFrom('outbox')
        .select((eb) => [
          eb.fn.sum<number>(eb.case().when('state', '=', 'pending').then(1).else(0).end()).as('pending'),
          eb.fn.sum<number>(eb.case().when('state', '=', 'failed').then(1).else(0).end()).as('failed'),
          eb.fn.sum<number>(eb.case().when(eb.and([eb('state', '=', 'pending'), eb('locked_until', '>=', now)])).then(1).else(0).end()).as('claimed'),
          eb.fn.min(eb.case().when('state', '=', 'pending').then(eb.ref('created_at')).end()).as('oldest'),
          eb.fn.max(eb.case().when('state', '=', 'done').then(eb.ref('completed_at')).end()).as('last_done'),
        ]);
      if (fallback !== undefined) query = query.where('fallback', '=', fallback);
      const row = await query.executeTakeFirstOrThrow();
      const date = (v: unknown) => (v === null || v === undefined ? null : toDate(v as Date | number | string));
      return {
        pending: toNumber(row.pending as number | null),
        failed: toNumber(row.failed as number | null),
        claimed: toNumber(row.claimed as number | null),
        oldestPendingAt: date(row.oldest),
        lastCompletedAt: date(row.last_done),
      };
    });
  }

  liveBlobs(fallback: string): Promise<Set<string>> {
    return guard('outbox read', async () => {
      const rows = await this.c.db.selectFrom('outbox').select('blob').where('fallback', '=', fallback).where('state', 'in', LIVE).where('blob', 'is not', null).execute();
      return new Set(rows.map((r) => r.blob as string));
    });
  }
}
