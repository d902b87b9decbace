import type { Outbox } from '../layers/outbox.js';

/**
 * The catalog is an index of what the backend holds (DESIGN §3: the backend holds the
 * bytes; `reindex` can rebuild this from it), plus the upload tokens. One implementation
 * over Kysely serves SQLite (default, a file in the bucket folder) and PostgreSQL.
 */

export interface CatalogObject {
  /** Random, unguessable, stable for the life of the key. */
  id: string;
  key: string;
  segment: string;
  size: number;
  contentType: string;
  etag: string;
  sha256: string | null;
  /** `sub` of the user who uploaded it; null for service uploads and reindexed objects. */
  owner: string | null;
  /** Which backend holds the bytes: `primary` or `fallback`. */
  location: string;
  createdAt: Date;
  updatedAt: Date;
}

export type NewCatalogObject = Omit<CatalogObject, 'id' | 'createdAt' | 'updatedAt'>;

export interface UploadToken {
  /** The secret the client presents; stored only as its SHA-256. */
  token: string;
  key: string;
  contentType: string;
  maxBytes: number;
  owner: string | null;
  expiresAt: Date;
  /** When the grant was issued (absent for a token being created). */
  createdAt?: Date;
}

export interface CatalogListOptions {
  segment?: string;
  /** Full-key prefix. */
  prefix?: string;
  owner?: string;
  /** Opaque cursor from the previous page. */
  cursor?: string;
  limit: number;
}

export interface CatalogPage {
  items: CatalogObject[];
  cursor?: string;
}

export interface SegmentStats {
  count: number;
  bytes: number;
}

export interface CatalogStats {
  segments: Record<string, SegmentStats>;
  total: SegmentStats;
}

export interface Catalog {
  readonly dialect: 'sqlite' | 'postgres';
  /** Inserts or, for an existing key, updates in place keeping its id. */
  upsertObject(obj: NewCatalogObject): Promise<CatalogObject>;
  getById(id: string): Promise<CatalogObject | undefined>;
  getByKey(key: string): Promise<CatalogObject | undefined>;
  /** True when a row was removed; with `ifUnchanged`, only if the row is still the one read (not rewritten since). */
  deleteByKey(key: string, ifUnchanged?: { updatedAt: Date; etag: string }): Promise<boolean>;
  /** Records that the bytes of `key` moved (fallback → primary after a replay), if the row still describes that content. */
  moveLocation(move: { key: string; sha256: string; from: string; to: string }): Promise<boolean>;
  /** Sorted by key; stable across pages. */
  list(opts: CatalogListOptions): Promise<CatalogPage>;
  /** `prefix`: only keys starting with it (a user's folder), so statistics follow the same lines as reads. */
  stats(filter?: { owner?: string; segments?: readonly string[]; prefix?: string }): Promise<CatalogStats>;
  createUploadToken(token: UploadToken): Promise<void>;
  /**
   * Atomically marks the token used and returns it; undefined when unknown, already used
   * or expired. Exactly one of two racing callers (even across processes) gets it.
   */
  consumeUploadToken(token: string, now?: Date): Promise<UploadToken | undefined>;
  /** Makes a token this caller consumed usable again (its request was refused before the body). */
  restoreUploadToken(token: string): Promise<void>;
  /** Removes every object row (used by reindex before refilling). */
  clearObjects(): Promise<void>;
  /** The fallback layer's durable outbox (src/layers/outbox.ts), in the same database. */
  readonly outbox: Outbox;
  /** Health round trip. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
