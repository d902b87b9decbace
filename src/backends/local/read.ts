import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { type FileHandle, lstat, open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { StorageError } from '../../core/errors.js';
import type { ParsedKey } from '../../core/keys.js';
import { CHUNK, type LocalContext, SMALL_READ } from './context.js';
import { fromFsError } from './fs-errors.js';
import { DEFAULT_CONTENT_TYPE, type Sidecar, dataPath, describes, makeSidecar, readSidecar, readSidecarSync, writeSidecar } from './metadata.js';
import { ENCRYPTION_SCHEME } from './encryption.js';
import { assertNoSymlinks, assertNoSymlinksSync } from './paths.js';
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

/** An object's file and sidecar, checked to agree; with `data` when it was read whole. */
export interface PeekedVersion {
  stat: Stats;
  sidecar: Sidecar;
  data?: Buffer;
}

/**
 * The fast path of head, and of get for objects up to SMALL_READ bytes (`withData`): open,
 * stat, sidecar and the bytes in a few synchronous calls (see SYNC_METADATA in context.ts).
 * Undefined whenever anything is not plain — missing, too large to read, encrypted, a stale
 * sidecar, an error — and the caller takes the general path (openVersion), which settles or
 * reports it.
 */
export function peekVersion(ctx: LocalContext, parsed: ParsedKey, withData: boolean): PeekedVersion | undefined {
  if (ctx.cipher) return undefined;
  const path = dataPath(ctx, parsed);
  let fd: number;
  try {
    assertNoSymlinksSync(dirname(path));
    fd = openSync(path, OPEN_READ);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || (withData && stat.size > SMALL_READ)) return undefined;
    const sidecar = readSidecarSync(ctx, parsed);
    if (!describes(sidecar, stat)) return undefined;
    if (!withData) return { stat, sidecar };
    const data = Buffer.allocUnsafe(stat.size);
    for (let filled = 0; filled < data.length; ) {
      const n = readSync(fd, data, filled, data.length - filled, filled);
      if (n === 0) return undefined; // truncated under us: let the general path look again
      filled += n;
    }
    return { stat, sidecar, data };
  } catch {
    return undefined;
  } finally {
    closeQuietly(fd);
  }
}

/** A failed close (EIO on NFS) must not turn the fast path into an error: the slow path decides. */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing was written through this descriptor
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
