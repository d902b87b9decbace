import { StorageError } from './errors.js';

/** List cursors are opaque to callers: the last key returned, base64url-encoded. */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || cursor.length > 2048) throw new StorageError('InvalidArgument', 'malformed list cursor');
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

export const MAX_LIST_LIMIT = 1000;

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new StorageError('InvalidArgument', `list limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  return limit;
}
