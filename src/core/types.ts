import type { Readable } from 'node:stream';

/** What every backend knows about a stored object. */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Quoted entity tag, derived from the content's SHA-256 where the backend can. */
  etag: string;
  /** Hex SHA-256 of the whole content, when known. */
  sha256?: string;
  contentType: string;
  lastModified: Date;
  metadata: Record<string, string>;
  /**
   * `fallback` while the bytes wait on the fallback store (a write diverted during an outage of
   * the primary, moved there later by the replayer); absent when the backend itself holds them.
   */
  location?: 'fallback';
  /** The marker of the presigned upload that stored it, where the backend binds one (`capabilities.presignGrant`). */
  grant?: string;
}

/** `{ start, end? }` (end inclusive, as in HTTP) or `{ suffix }` for the last n bytes. */
export type ByteRange = { start: number; end?: number } | { suffix: number };

/** A range resolved against an object's size: both ends inclusive. */
export interface ResolvedRange {
  start: number;
  end: number;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Stop and store nothing once the body passes this many bytes. */
  maxBytes?: number;
  /** `'*'`: fail with AlreadyExists if the key exists (create-only). */
  ifNoneMatch?: '*';
  /** Expected hex SHA-256; a mismatch stores nothing and fails with ChecksumMismatch. */
  sha256?: string;
  /** Declared length, when the caller knows it; a body of another length stores nothing. */
  contentLength?: number;
  cacheControl?: string;
  signal?: AbortSignal;
}

export interface GetOptions {
  range?: ByteRange;
  signal?: AbortSignal;
}

export interface GetResult {
  info: ObjectInfo;
  body: Readable;
  /** Present when a range was asked for: the bytes the body holds. */
  range?: ResolvedRange;
}

export interface ListOptions {
  /** Opaque cursor from the previous page. */
  cursor?: string;
  /** Page size, 1..1000 (default 1000). */
  limit?: number;
  /** Group keys by this delimiter after the prefix (S3 "common prefixes"). */
  delimiter?: string;
  /**
   * `false`: only what the store's listing itself says — key, size, last modified, the store's
   * own ETag — for callers that need no more (which keys a target holds). Spares backends that
   * describe each listed object with a request of its own (S3: a HEAD per object); content
   * type and metadata then read as unknown (octet-stream, `{}`) and `sha256` is absent.
   * Default `true`. Backends whose listing already describes objects ignore it.
   */
  describe?: boolean;
}

export interface ListPage {
  objects: ObjectInfo[];
  /** Common prefixes, each ending with the delimiter; only with a delimiter. */
  prefixes: string[];
  /** Cursor for the next page; absent on the last page. */
  cursor?: string;
}

export interface DeleteManyResult {
  deleted: string[];
  errors: { key: string; code: string; message: string }[];
}

export interface CopyOptions {
  ifNoneMatch?: '*';
}

export interface PresignOptions {
  method: 'GET' | 'PUT' | 'POST';
  /** Seconds. */
  expiresIn: number;
  contentType?: string;
  maxBytes?: number;
  /** PUT and POST: a marker the upload must carry, where the backend binds one (`capabilities.presignGrant`). */
  grant?: string;
  /**
   * PUT: the upload may only create the object; the store refuses it when the key exists, so a
   * direct upload never replaces (nor, refused afterwards, takes away) what was stored there.
   * A POST policy cannot say so: asking for it with POST is Unsupported.
   */
  createOnly?: boolean;
}

/** A whole request the client sends as is (DESIGN §1: never a bare URL). */
export interface PresignedRequest {
  method: 'GET' | 'PUT' | 'POST';
  url: string;
  headers: Record<string, string>;
  /** Form fields for a POST policy upload. */
  fields?: Record<string, string>;
  expiresAt: Date;
}

export interface HealthReport {
  ok: true;
  latencyMs: number;
  details?: Record<string, unknown>;
}
