import { mkdir, realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StorageError } from '../../core/errors.js';
import { KeyRules, defaultKeyRules } from '../../core/keys.js';
import { LocalBackend } from './backend.js';
import { fromFsError } from './fs-errors.js';
import { LocalCipher } from './encryption.js';
import { KeyLock } from './key-lock.js';
import { checkKeyMarker } from './key-marker.js';
import { createLayout, sweepTemps } from './startup.js';
import { MAX_PART_BYTES } from './paths.js';

export { LocalBackend } from './backend.js';

export interface LocalBackendOptions {
  /** The bucket folder; created if missing. */
  root: string;
  keys?: KeyRules;
  /** fsync data, sidecars and folders before a write returns (default true). */
  fsync?: boolean;
  /** 32 bytes: encrypt every object at rest (BHIV_ENCRYPTION_KEY; see encryption.ts). */
  encryptionKey?: Buffer;
}

/**
 * Opens a bucket folder: creates it and its segment folders, and removes temp files a crash
 * left behind, before the first operation can run.
 */
export async function createLocalBackend(opts: LocalBackendOptions): Promise<LocalBackend> {
  if (typeof opts?.root !== 'string' || opts.root.trim() === '') {
    throw new StorageError('ConfigInvalid', 'BHIV_BUCKET_PATH: expected the path of the bucket folder');
  }
  // A key part is a file name here: the shared rules, bounded to what a name can hold.
  const keys = new KeyRules((opts.keys ?? defaultKeyRules).segments, { maxPartBytes: MAX_PART_BYTES });
  const cipher = opts.encryptionKey ? new LocalCipher(opts.encryptionKey) : undefined;
  let root: string;
  try {
    await mkdir(resolve(opts.root), { recursive: true });
    // Stored as a real path so every later check can compare paths without resolving the root again.
    root = await realpath(resolve(opts.root));
    if (!(await stat(root)).isDirectory()) throw new StorageError('ConfigInvalid', 'BHIV_BUCKET_PATH: expected a folder');
    await createLayout(root, keys);
    await checkKeyMarker(root, cipher);
    await sweepTemps(root, keys);
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw fromFsError(err, 'the bucket folder', 'open');
  }
  return new LocalBackend({ root, keys, fsync: opts.fsync ?? true, lock: new KeyLock(), ...(cipher ? { cipher } : {}) });
}
