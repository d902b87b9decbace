import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, rmdir } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { isFsError } from './fs-errors.js';
import { assertNoSymlinks, tempName } from './paths.js';

const CREATE_EXCLUSIVE = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;
/** A concurrent delete may prune a folder between our mkdir and our open; this many tries is plenty. */
const ATTEMPTS = 5;

/** Creates `dir` (and parents) and checks no symlink leads there. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await assertNoSymlinks(dir);
}

/**
 * Creates a fresh temp file in `dir`. The file pins its folder (a non-empty folder is never
 * pruned), so once this returns the folder stays until the temp is renamed or removed.
 */
export async function createTempIn(dir: string): Promise<{ fh: FileHandle; path: string }> {
  for (let attempt = 1; ; attempt++) {
    const path = join(dir, tempName());
    try {
      // Inside the retry: a prune may remove the folder between mkdir, the symlink check and open.
      await ensureDir(dir);
      return { fh: await open(path, CREATE_EXCLUSIVE, 0o644), path };
    } catch (err) {
      // mkdir -p racing a prune can also fail with EEXIST/ENOTDIR; a real clash fails every attempt.
      if (!isFsError(err, 'ENOENT', 'EEXIST', 'ENOTDIR') || attempt >= ATTEMPTS) throw err;
    }
  }
}

/** Makes a rename in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Removes `dir` and then its parents while they are empty, stopping at (and keeping) `stopAt`. */
export async function pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
  let current = dir;
  while (current.startsWith(stopAt + sep)) {
    try {
      await rmdir(current);
    } catch (err) {
      // Not empty (another key lives there or a put just pinned it) or already gone: stop quietly.
      if (isFsError(err)) return;
      throw err;
    }
    current = dirname(current);
  }
}
