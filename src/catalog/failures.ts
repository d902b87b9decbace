import { StorageError, isStorageError } from '../core/errors.js';

/** PostgreSQL SQLSTATEs that mean "the database is not there right now", so a retry may help. */
const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01', '55P03']);
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Maps a driver error (pg or better-sqlite3) onto the project's closed set of codes. */
export function catalogError(err: unknown, op: string): StorageError {
  if (isStorageError(err)) return err;
  const code = codeOf(err);
  const text = err instanceof Error ? err.message : String(err);
  const message = `catalog ${op} failed: ${text}`;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new StorageError('AlreadyExists', message, { cause: err });
  }
  if (code === 'SQLITE_FULL' || code === '53100') return new StorageError('InsufficientStorage', message, { cause: err });
  if (code === '28P01' || code === '28000' || code === '3D000') {
    // Wrong credentials or database name: unavailable, but waiting will not fix it.
    return new StorageError('BackendUnavailable', message, { cause: err, temporary: false });
  }
  if (
    PG_UNAVAILABLE.has(code) ||
    code.startsWith('08') ||
    NET_UNAVAILABLE.has(code) ||
    code.startsWith('SQLITE_BUSY') ||
    code.startsWith('SQLITE_LOCKED') ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(text)
  ) {
    return new StorageError('BackendUnavailable', message, { cause: err });
  }
  return new StorageError('Internal', message, { cause: err });
}

export async function guard<T>(op: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw catalogError(err, op);
  }
}
