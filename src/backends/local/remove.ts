import { unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ParsedKey } from '../../core/keys.js';
import type { LocalContext } from './context.js';
import { pruneEmptyDirs } from './dirs.js';
import { fromFsError, isFsError } from './fs-errors.js';
import { dataPath, removeSidecar, sidecarPath } from './metadata.js';
import { INTERNAL_DIR, META_DIR, assertNoSymlinks, confinedJoin } from './paths.js';

/** Removes a data file; absent (or a folder, which is no object) counts as removed. */
async function unlinkData(path: string): Promise<void> {
  try {
    // A symlinked folder on the way could point outside the root: refuse before unlinking.
    await assertNoSymlinks(dirname(path));
    await unlink(path);
  } catch (err) {
    if (!isFsError(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw err;
  }
}

/** Idempotent delete of the data file and its sidecar, then of folders it leaves empty. */
export async function removeObject(ctx: LocalContext, parsed: ParsedKey): Promise<void> {
  try {
    await ctx.lock.with([parsed.key], async () => {
      await unlinkData(dataPath(ctx, parsed));
      await removeSidecar(ctx, parsed);
    });
  } catch (err) {
    throw fromFsError(err, parsed.key, 'delete');
  }
  await pruneAfterRemoval(ctx, parsed);
}

/** Removes the folders a key leaves empty, up to (and keeping) its segment folder. */
export async function pruneAfterRemoval(ctx: LocalContext, parsed: ParsedKey): Promise<void> {
  await pruneEmptyDirs(dirname(dataPath(ctx, parsed)), confinedJoin(ctx.root, parsed.segment));
  await pruneEmptyDirs(dirname(sidecarPath(ctx, parsed)), confinedJoin(ctx.root, INTERNAL_DIR, META_DIR, parsed.segment));
}
