import { constants, fstatSync, type Stats } from 'node:fs';
import { type FileHandle, lstat, open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { StorageError } from '../../core/errors.js';
import type { ParsedKey } from '../../core/keys.js';
import { CHUNK, type LocalContext } from './context.js';
import { fromFsError } from './fs-errors.js';
import { DEFAULT_CONTENT_TYPE, type Sidecar, dataPath, describes, makeSidecar, readSidecar, writeSidecar } from './metadata.js';
import { ENCRYPTION_SCHEME } from './encryption.js';
import { assertNoSymlinks } from './paths.js';
import { hashSealed } from './sealed-read.js';

// O_NONBLOCK: opening a FIFO dropped into the bucket must not hang; it is refused as not a file.
const OPEN_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** A key rewritten this many times while one read tries to pin it down is reported busy. */
const ATTEMPTS = 5;

/** One version of an object, pinned by an open file handle, with the sidecar describing it. */
export interface OpenVersion {
  fh: FileHandle;
  stat: Stats;
  sidecar: Sidecar;
}

/** Opens a data file without following symlinks anywhere on its path; NotFound unless a regular file. */
async function openData(path: string, key: string): Promise<{ fh: FileHandle; stat: Stats }> {
  await assertNoSymlinks(dirname(path));
  const fh = await open(path, OPEN_READ);
  try {
    const stat = fstatSync(fh.fd); // synchronous: see SYNC_METADATA in context.ts
    if (!stat.isFile()) throw new StorageError('NotFound', `no object at ${key}`);
    return { fh, stat };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/**
 * Opens the object at `parsed` and finds the sidecar that describes exactly the opened file.
 * The handle pins the version: a concurrent overwrite renames a new file into place, and this
 * handle keeps reading the old one whole. A missing or stale sidecar (crash between renames,
 * file placed by hand) is rebuilt under the key's lock: content type octet-stream, SHA-256
 * read from the file.
 */
export async function openVersion(ctx: LocalContext, parsed: ParsedKey): Promise<OpenVersion> {
  const path = dataPath(ctx, parsed);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let opened: { fh: FileHandle; stat: Stats };
    try {
      opened = await openData(path, parsed.key);
    } catch (err) {
      throw fromFsError(err, parsed.key, 'read');
    }
    const { fh, stat } = opened;
    try {
      const sidecar = await readSidecar(ctx, parsed);
      if (describes(sidecar, stat)) return { fh, stat, sidecar };
      const settled = await ctx.lock.with([parsed.key], () => settleSidecar(ctx, parsed, path, fh, stat));
      if (settled) return { fh, stat, sidecar: settled };
    } catch (err) {
      await fh.close();
      throw fromFsError(err, parsed.key, 'read');
    }
    await fh.close(); // replaced while we looked: open the new version
  }
  throw new StorageError('BackendUnavailable', `${parsed.key} kept changing while it was being read`);
}

/** Runs under the key's lock, so no commit is half done. Undefined: the file was replaced, retry. */
async function settleSidecar(ctx: LocalContext, parsed: ParsedKey, path: string, fh: FileHandle, stat: Stats): Promise<Sidecar | undefined> {
  const sidecar = await readSidecar(ctx, parsed);
  if (describes(sidecar, stat)) return sidecar; // a commit finished between our two looks
  const current = await lstat(path).catch(() => undefined);
  if (current?.ino !== stat.ino) return undefined;
  // Encrypted: decrypting the whole file both authenticates it and gives the content's size and hash.
  const content = ctx.cipher ? await hashSealed(ctx.cipher, fh, stat.size) : { size: stat.size, sha256: await hashHandle(fh, stat.size) };
  const fresh = makeSidecar({ ...content, contentType: DEFAULT_CONTENT_TYPE, metadata: {}, enc: ctx.cipher ? ENCRYPTION_SCHEME : undefined }, stat);
  // Best effort: a read-only bucket still serves, it just hashes again next time.
  await writeSidecar(ctx, parsed, fresh).catch(() => undefined);
  return fresh;
}

/** SHA-256 of the first `size` bytes behind a handle, read with positional reads (the handle is shared). */
export async function hashHandle(fh: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  for (let position = 0; position < size; ) {
    const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.length, size - position), position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}
