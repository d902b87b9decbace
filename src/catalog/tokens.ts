import { createHash } from 'node:crypto';
import { StorageError } from '../core/errors.js';
import type { CatalogDb } from './dialect.js';
import { toDate, toNumber } from './rows.js';
import type { UploadToken } from './types.js';

/** Only the hash is stored, so a copy of the catalog does not hand out working tokens. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function createUploadToken(c: CatalogDb, token: UploadToken): Promise<void> {
  if (typeof token.token !== 'string' || token.token === '') throw new StorageError('InvalidArgument', 'upload token must be a non-empty string');
  if (!Number.isSafeInteger(token.maxBytes) || token.maxBytes < 0) throw new StorageError('InvalidArgument', 'upload token maxBytes must be a non-negative integer');
  if (!(token.expiresAt instanceof Date) || Number.isNaN(token.expiresAt.getTime())) throw new StorageError('InvalidArgument', 'upload token needs a valid expiresAt');
  await c.db
    .insertInto('upload_tokens')
    .values({
      token_hash: hashToken(token.token),
      key: token.key,
      content_type: token.contentType,
      max_bytes: token.maxBytes,
      owner: token.owner,
      expires_at: c.time(token.expiresAt),
      used_at: null,
      created_at: c.time(new Date()),
    })
    .execute();
}

/**
 * One conditional UPDATE: the database decides the race. On PostgreSQL a second updater
 * blocks on the row lock, then re-checks `used_at IS NULL` against the committed row and
 * matches nothing; on SQLite writers are serialised by the database lock.
 */
export async function consumeUploadToken(c: CatalogDb, token: string, now: Date = new Date()): Promise<UploadToken | undefined> {
  if (typeof token !== 'string' || token === '') return undefined;
  const at = c.time(now);
  const row = await c.db
    .updateTable('upload_tokens')
    .set({ used_at: at })
    .where('token_hash', '=', hashToken(token))
    .where('used_at', 'is', null)
    .where('expires_at', '>', at)
    .returningAll()
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    token,
    key: row.key,
    contentType: row.content_type,
    maxBytes: toNumber(row.max_bytes),
    owner: row.owner,
    expiresAt: toDate(row.expires_at),
    createdAt: toDate(row.created_at),
  };
}

/**
 * Gives back a token this request consumed but refused before reading the body (wrong type,
 * declared length over the grant): a refused request leaves everything as it was, the token
 * included. Only the consumer can call this — the token was single-use until now.
 */
export async function restoreUploadToken(c: CatalogDb, token: string): Promise<void> {
  if (typeof token !== 'string' || token === '') return;
  await c.db.updateTable('upload_tokens').set({ used_at: null }).where('token_hash', '=', hashToken(token)).where('used_at', 'is not', null).execute();
}
