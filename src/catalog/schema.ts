import type { ColumnType, Generated } from 'kysely';

/**
 * Table types for Kysely. Values differ by dialect on the way out (PostgreSQL returns
 * bigint as a string and timestamptz as a Date; SQLite returns numbers), so the select
 * types are wide and `rows.ts` narrows them in one place.
 */

/** SQLite: integer milliseconds since the epoch; PostgreSQL: timestamptz. */
export type Timestamp = ColumnType<Date | number | string, Date | number, Date | number>;
/** SQLite: integer; PostgreSQL: bigint (returned as a string by `pg`). */
export type BigCount = ColumnType<number | string | bigint, number, number>;

export interface ObjectsTable {
  id: string;
  key: string;
  segment: string;
  size: BigCount;
  content_type: string;
  etag: string;
  sha256: string | null;
  owner: string | null;
  location: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface UploadTokensTable {
  /** Hex SHA-256 of the token; the token itself is never stored. */
  token_hash: string;
  key: string;
  content_type: string;
  max_bytes: BigCount;
  owner: string | null;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  created_at: Timestamp;
}

/** Writes accepted by the fallback, waiting to be replayed onto the primary (issue 6). */
export interface OutboxTable {
  id: Generated<BigCount>;
  op: 'put' | 'delete';
  key: string;
  sha256: string | null;
  size: BigCount | null;
  created_at: Timestamp;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  /** A replayer holds the entry until then; lets two instances share the queue. */
  locked_until: Timestamp | null;
  // Added by migration 2 (the fallback layer's replay, src/catalog/outbox.ts):
  /** pending | done | superseded | failed */
  state: ColumnType<string, string | undefined, string>;
  /** Where the bytes wait on the fallback (put only). */
  blob: string | null;
  content_type: string | null;
  /** JSON object of user metadata. */
  metadata: string | null;
  cache_control: string | null;
  /** Identity of the fallback store holding `blob`. */
  fallback: string | null;
  /** Which replayer holds the claim that `locked_until` bounds. */
  claimed_by: ColumnType<string | null, string | null | undefined, string | null>;
  next_attempt_at: ColumnType<Date | number | string | null, Date | number | null | undefined, Date | number | null>;
  completed_at: ColumnType<Date | number | string | null, Date | number | null | undefined, Date | number | null>;
}

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: Timestamp;
}

export interface CatalogSchema {
  objects: ObjectsTable;
  upload_tokens: UploadTokensTable;
  outbox: OutboxTable;
  catalog_migrations: MigrationsTable;
}
