import { StorageError, isStorageError } from '../../core/errors.js';

/** A Node fs error: it has a `code` such as ENOENT. */
export function isFsError(err: unknown, ...codes: string[]): err is NodeJS.ErrnoException {
  if (!(err instanceof Error) || typeof (err as NodeJS.ErrnoException).code !== 'string') return false;
  return codes.length === 0 || codes.includes((err as NodeJS.ErrnoException).code as string);
}

/** The cause kept on a mapped error: code and syscall only, since fs messages hold host paths. */
function safeCause(err: NodeJS.ErrnoException) {
  return { code: err.code, syscall: err.syscall, errno: err.errno };
}

/**
 * Maps an fs failure onto the closed set of codes. Messages name the key, never a host path.
 * Permission and read-only failures are the deployment's fault, not the caller's, so they are
 * BackendUnavailable (permanent) — which also lets a fallback layer take over.
 */
export function fromFsError(err: unknown, key: string, action: string): StorageError {
  if (isStorageError(err)) return err;
  if (!isFsError(err)) return new StorageError('Internal', `${action} ${key} failed`, { cause: err });
  const cause = safeCause(err);
  switch (err.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new StorageError('NotFound', `no object at ${key}`, { cause });
    case 'ELOOP':
      return new StorageError('Forbidden', `${key} is a symbolic link, which is not followed`, { cause });
    case 'EISDIR':
    case 'EEXIST':
    case 'ENOTEMPTY':
      return new StorageError('AlreadyExists', `${key} clashes with a folder or file of the same name`, { cause });
    case 'ENOSPC':
    case 'EDQUOT':
      return new StorageError('InsufficientStorage', `no space left to ${action} ${key}`, { cause });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new StorageError('BackendUnavailable', `the bucket folder refused to ${action} ${key} (${err.code})`, { cause, temporary: false });
    case 'EMFILE':
    case 'ENFILE':
    case 'EIO':
    case 'EBUSY':
    case 'EAGAIN':
      return new StorageError('BackendUnavailable', `the disk failed to ${action} ${key} (${err.code})`, { cause });
    case 'ENAMETOOLONG':
      return new StorageError('InvalidKey', `${key} is too long for this file system`, { cause });
    default:
      return new StorageError('Internal', `${action} ${key} failed (${err.code})`, { cause });
  }
}
