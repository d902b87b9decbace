import { constants } from 'node:fs';
import { copyFile, link, lstat, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StorageError } from '../../core/errors.js';
import type { ParsedKey } from '../../core/keys.js';
import type { ObjectInfo } from '../../core/types.js';
import type { LocalContext } from './context.js';
import { createTempIn, ensureDir, syncDir } from './dirs.js';
import { fromFsError, isFsError } from './fs-errors.js';
import { assertNoSymlinks } from './paths.js';
import { type Sidecar, dataPath, describes, makeSidecar, objectInfo, prepareSidecar, readSidecar, removeSidecar } from './metadata.js';
import { openVersion } from './read.js';
import { pruneAfterRemoval } from './remove.js';
import { commitStaged, placeFailure } from './write.js';

/** Rewrites of the source racing a copy or move make us look again; this many times at most. */
const ATTEMPTS = 5;

/** Fails early (before any bytes move) when create-only is asked and the key exists; the commit checks again atomically. */
export async function refuseIfExists(ctx: LocalContext, parsed: ParsedKey): Promise<void> {
  const path = dataPath(ctx, parsed);
  // Through a symlinked folder we would learn about files outside the root: skip, the write itself refuses.
  const exists = await assertNoSymlinks(dirname(path)).then(
    () => lstat(path).then(() => true, () => false),
    () => false,
  );
  if (exists) throw new StorageError('AlreadyExists', `${parsed.key} already exists`);
}

/** Under the source's lock: the source file and the sidecar that describes it, or undefined if they disagree. */
async function pinSource(ctx: LocalContext, from: ParsedKey) {
  const path = dataPath(ctx, from);
  const stat = await lstat(path).catch(() => undefined);
  const sidecar = await readSidecar(ctx, from);
  return stat?.isFile() && describes(sidecar, stat) ? { path, stat, sidecar } : undefined;
}

/** Makes sure the source exists and has a valid sidecar (rebuilding it if stale). */
async function touchSource(ctx: LocalContext, from: ParsedKey): Promise<void> {
  const version = await openVersion(ctx, from);
  await version.fh.close();
}

/**
 * Copies content, content type and metadata. The source is held still (its lock) while
 * `copyFile` clones it into a temp beside the target, so the bytes copied are the ones its
 * sidecar describes and nothing is hashed again; then the temp is committed like any put.
 */
export async function copyObject(ctx: LocalContext, from: ParsedKey, to: ParsedKey, createOnly: boolean): Promise<ObjectInfo> {
  if (createOnly) await refuseIfExists(ctx, to);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    await touchSource(ctx, from);
    let staged: { path: string; sidecar: Sidecar } | undefined;
    try {
      staged = await ctx.lock.with([from.key], async () => {
        const source = await pinSource(ctx, from);
        if (!source) return undefined;
        const temp = await createTempIn(dirname(dataPath(ctx, to))).catch((err: unknown) => {
          throw placeFailure(err, to.key);
        });
        await temp.fh.close();
        try {
          // FICLONE: a reflink where the file system can (btrfs, XFS), a plain copy elsewhere.
          await copyFile(source.path, temp.path, constants.COPYFILE_FICLONE);
        } catch (err) {
          await unlink(temp.path).catch(() => undefined);
          throw err;
        }
        return { path: temp.path, sidecar: source.sidecar };
      });
    } catch (err) {
      throw fromFsError(err, from.key, 'copy');
    }
    if (!staged) continue;
    const stat = await settleCopy(ctx, staged.path, to.key);
    const sidecar = makeSidecar(staged.sidecar, stat);
    await commitStaged(ctx, to, staged, sidecar, createOnly);
    return objectInfo(to.key, sidecar, stat);
  }
  throw new StorageError('BackendUnavailable', `${from.key} kept changing while it was being copied`);
}

/** fsyncs a copied temp and returns its stat (the new inode the sidecar must name). */
async function settleCopy(ctx: LocalContext, path: string, key: string) {
  try {
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (ctx.fsync) await fh.sync();
      return await fh.stat();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await unlink(path).catch(() => undefined);
    throw fromFsError(err, key, 'copy');
  }
}

/** Renames (or, create-only, links then unlinks) the data file; recreates a target folder pruned meanwhile. */
async function placeByRename(fromPath: string, toPath: string, createOnly: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await ensureDir(dirname(toPath));
    try {
      if (createOnly) {
        await link(fromPath, toPath);
        await unlink(fromPath);
      } else {
        await rename(fromPath, toPath);
      }
      return;
    } catch (err) {
      if (!isFsError(err, 'ENOENT') || attempt >= ATTEMPTS) throw err;
    }
  }
}

/**
 * Moves by renaming the data file: one atomic step that keeps the inode and mtime, so the
 * source's sidecar, copied to the target's place, stays valid. Both keys are locked.
 */
export async function moveObject(ctx: LocalContext, from: ParsedKey, to: ParsedKey, createOnly: boolean): Promise<ObjectInfo> {
  if (from.key === to.key) {
    const version = await openVersion(ctx, from);
    await version.fh.close();
    if (createOnly) throw new StorageError('AlreadyExists', `${to.key} already exists`);
    return objectInfo(to.key, version.sidecar, version.stat);
  }
  if (createOnly) await refuseIfExists(ctx, to);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    await touchSource(ctx, from);
    let info: ObjectInfo | undefined;
    try {
      info = await ctx.lock.with([from.key, to.key], async () => {
        const source = await pinSource(ctx, from);
        if (!source) return undefined;
        const toPath = dataPath(ctx, to);
        const prepared = await prepareSidecar(ctx, to, source.sidecar);
        try {
          await placeByRename(source.path, toPath, createOnly);
          if (ctx.fsync) await Promise.all([syncDir(dirname(toPath)), syncDir(dirname(source.path))]);
          await prepared.commit();
        } catch (err) {
          await prepared.abort();
          throw err;
        }
        await removeSidecar(ctx, from);
        return objectInfo(to.key, source.sidecar, source.stat);
      });
    } catch (err) {
      if (createOnly && isFsError(err, 'EEXIST')) throw new StorageError('AlreadyExists', `${to.key} already exists`);
      throw isFsError(err, 'ENOENT') ? fromFsError(err, from.key, 'move') : placeFailure(err, to.key);
    }
    if (!info) continue;
    await pruneAfterRemoval(ctx, from);
    return info;
  }
  throw new StorageError('BackendUnavailable', `${from.key} kept changing while it was being moved`);
}
