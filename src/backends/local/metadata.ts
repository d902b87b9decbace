import { closeSync, constants, openSync, readFileSync, type Stats } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StorageError, isStorageError } from '../../core/errors.js';
import type { ParsedKey } from '../../core/keys.js';
import { etagFromSha256 } from '../../core/streams.js';
import type { ObjectInfo } from '../../core/types.js';
import type { LocalContext } from './context.js';
import { createTempIn, pruneEmptyDirs, syncDir } from './dirs.js';
import { isFsError } from './fs-errors.js';
import { ENCRYPTION_SCHEME, type LocalCipher } from './encryption.js';
import { INTERNAL_DIR, META_DIR, assertNoSymlinks, assertNoSymlinksSync, confinedJoin, sidecarParts } from './paths.js';

// O_NONBLOCK: a FIFO planted in the sidecar tree must not hang the (synchronous) read.
const READ_NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * What is kept beside each data file, in `.bucketgate/meta/…`. The data file's inode, size
 * and mtime tell whether the sidecar still describes it: a crash between the two renames, or
 * a file copied in by hand, leaves a sidecar that no longer matches and is then ignored.
 */
export interface Sidecar {
  v: 1;
  size: number;
  sha256: string;
  contentType: string;
  metadata: Record<string, string>;
  cacheControl?: string;
  ino: number;
  mtimeMs: number;
  /** Encrypted data file: its scheme, and its size on disk (`size` is the plaintext's). */
  enc?: typeof ENCRYPTION_SCHEME;
  diskSize?: number;
  /** With encryption: HMAC of everything above and the key, so an edited sidecar is not believed. */
  mac?: string;
}

/** The part of a sidecar that belongs to the content rather than to one file on disk. */
export type Description = Pick<Sidecar, 'size' | 'sha256' | 'contentType' | 'metadata' | 'cacheControl' | 'enc'>;

export function sidecarPath(ctx: LocalContext, parsed: ParsedKey): string {
  return confinedJoin(ctx.root, ...sidecarParts(parsed.parts));
}

export function dataPath(ctx: LocalContext, parsed: ParsedKey): string {
  return confinedJoin(ctx.root, ...parsed.parts);
}

export function makeSidecar(desc: Description, st: Pick<Stats, 'ino' | 'mtimeMs' | 'size'>): Sidecar {
  const sidecar: Sidecar = { v: 1, size: desc.size, sha256: desc.sha256, contentType: desc.contentType, metadata: { ...desc.metadata }, ino: st.ino, mtimeMs: st.mtimeMs };
  if (desc.cacheControl !== undefined) sidecar.cacheControl = desc.cacheControl;
  if (desc.enc !== undefined) {
    sidecar.enc = desc.enc;
    sidecar.diskSize = st.size;
  }
  return sidecar;
}

export function describes(sidecar: Sidecar | undefined, st: Pick<Stats, 'ino' | 'size' | 'mtimeMs'>): sidecar is Sidecar {
  return sidecar !== undefined && sidecar.ino === st.ino && (sidecar.diskSize ?? sidecar.size) === st.size && sidecar.mtimeMs === st.mtimeMs;
}

/** The exact text a sidecar's MAC covers: every field, and the key it belongs to. */
function macText(key: string, s: Sidecar): string {
  const metadata = Object.entries(s.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([key, s.v, s.size, s.sha256, s.contentType, metadata, s.cacheControl ?? null, s.ino, s.mtimeMs, s.enc ?? null, s.diskSize ?? null]);
}

/** Seals (with encryption) a sidecar to the key it is written for. */
function withMac(ctx: LocalContext, parsed: ParsedKey, sidecar: Sidecar): Sidecar {
  const { mac: _old, ...fields } = sidecar;
  return ctx.cipher ? { ...fields, mac: ctx.cipher.sidecarMac(macText(parsed.key, fields)) } : fields;
}

/** With encryption only sidecars sealed for this key and marked encrypted count; without, no encrypted ones do. */
function trusted(ctx: LocalContext, parsed: ParsedKey, sidecar: Sidecar): boolean {
  if (!ctx.cipher) return sidecar.enc === undefined;
  return sealedBy(ctx.cipher, parsed.key, sidecar);
}

/** Whether `sidecar` of `key` is an encrypted object's, sealed with `cipher`'s key. */
export function sealedBy(cipher: LocalCipher, key: string, sidecar: Sidecar): boolean {
  const { mac, ...fields } = sidecar;
  return sidecar.enc === ENCRYPTION_SCHEME && typeof mac === 'string' && mac === cipher.sidecarMac(macText(key, fields));
}

export function isSidecar(value: unknown): value is Sidecar {
  const s = value as Partial<Sidecar> | null;
  return (
    typeof s === 'object' && s !== null && s.v === 1 &&
    typeof s.size === 'number' && typeof s.sha256 === 'string' && /^[0-9a-f]{64}$/.test(s.sha256) &&
    typeof s.contentType === 'string' && typeof s.ino === 'number' && typeof s.mtimeMs === 'number' &&
    typeof s.metadata === 'object' && s.metadata !== null && Object.values(s.metadata).every((v) => typeof v === 'string') &&
    (s.enc === undefined || (s.enc === ENCRYPTION_SCHEME && typeof s.diskSize === 'number'))
  );
}

/**
 * The sidecar of a key, or undefined when it is missing or unreadable (treated alike: stale).
 * Read synchronously: a few hundred bytes from the page cache (see SYNC_METADATA in context.ts).
 */
export async function readSidecar(ctx: LocalContext, parsed: ParsedKey): Promise<Sidecar | undefined> {
  return readSidecarSync(ctx, parsed);
}

export function readSidecarSync(ctx: LocalContext, parsed: ParsedKey): Sidecar | undefined {
  const path = sidecarPath(ctx, parsed);
  let text: string;
  try {
    assertNoSymlinksSync(dirname(path));
    const fd = openSync(path, READ_NOFOLLOW);
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      try {
        closeSync(fd);
      } catch {
        // read-only descriptor: a failed close loses nothing
      }
    }
  } catch (err) {
    // A symlink in the sidecar tree is treated like no sidecar: it is never followed.
    if (isFsError(err, 'ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP', 'EAGAIN') || isStorageError(err, 'Forbidden')) return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isSidecar(value)) return undefined;
  // An encrypted object in a bucket opened without its key cannot be read, and must not be
  // described afresh from its ciphertext (that would overwrite its content type and metadata).
  if (!ctx.cipher && value.enc !== undefined) {
    throw new StorageError('ConfigInvalid', `${parsed.key} is encrypted at rest, and this bucket was opened without BHIV_ENCRYPTION_KEY`);
  }
  return trusted(ctx, parsed, value) ? value : undefined;
}

/** A sidecar written to a temp file beside its final place, waiting for the commit. */
export interface PreparedSidecar {
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export async function prepareSidecar(ctx: LocalContext, parsed: ParsedKey, sidecar: Sidecar): Promise<PreparedSidecar> {
  const final = sidecarPath(ctx, parsed);
  const { fh, path } = await createTempIn(dirname(final));
  try {
    await fh.writeFile(JSON.stringify(withMac(ctx, parsed, sidecar)), 'utf8');
    if (ctx.fsync) await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
  await fh.close();
  return {
    commit: async () => {
      await rename(path, final);
      if (ctx.fsync) await syncDir(dirname(final));
    },
    // Folders made for this sidecar go with it (a refused write leaves the tree as it was).
    abort: async () => {
      await unlink(path).catch(() => undefined);
      await pruneEmptyDirs(dirname(path), confinedJoin(ctx.root, INTERNAL_DIR, META_DIR, parsed.segment)).catch(() => undefined);
    },
  };
}

/** Writes a sidecar in place of the current one (atomically: temp + rename). */
export async function writeSidecar(ctx: LocalContext, parsed: ParsedKey, sidecar: Sidecar): Promise<void> {
  const prepared = await prepareSidecar(ctx, parsed, sidecar);
  try {
    await prepared.commit();
  } catch (err) {
    await prepared.abort();
    throw err;
  }
}

export async function removeSidecar(ctx: LocalContext, parsed: ParsedKey): Promise<void> {
  const path = sidecarPath(ctx, parsed);
  try {
    await assertNoSymlinks(dirname(path));
    await unlink(path);
  } catch (err) {
    if (!isFsError(err, 'ENOENT', 'ENOTDIR')) throw err;
  }
}

/** `sidecar.size` is the content's size (with encryption, not the file's); `describes` checked they agree. */
export function objectInfo(key: string, sidecar: Sidecar, st: Pick<Stats, 'mtime'>): ObjectInfo {
  return {
    key,
    size: sidecar.size,
    etag: etagFromSha256(sidecar.sha256),
    sha256: sidecar.sha256,
    contentType: sidecar.contentType,
    lastModified: st.mtime,
    metadata: { ...sidecar.metadata },
  };
}

/**
 * User metadata travels in the sidecar, read on every head, get and list: it is bounded (S3
 * itself keeps 2 KB) so no object can make those reads slow, and names are real names.
 */
export const METADATA_MAX_BYTES = 8 * 1024;

/** Checks caller-supplied metadata: a flat record of strings, within the bound. */
export function checkMetadata(metadata: unknown): Record<string, string> {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new StorageError('InvalidArgument', 'metadata must be an object of strings');
  }
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new StorageError('InvalidArgument', `metadata ${JSON.stringify(name)} must be a string`);
    if (name === '' || name === '__proto__') throw new StorageError('InvalidArgument', `metadata name ${JSON.stringify(name)} is not allowed`);
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
    if (bytes > METADATA_MAX_BYTES) throw new StorageError('InvalidArgument', `metadata is larger than ${METADATA_MAX_BYTES} bytes`);
    out[name] = value;
  }
  return out;
}
