import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { StorageError } from '../../core/errors.js';
import { RESERVED_PART_PREFIX } from '../../core/keys.js';

/** The backend's own folder inside the root: sidecars, the catalog, probes. Never a segment. */
export const INTERNAL_DIR = '.bucketgate';
export const META_DIR = 'meta';
/** Temp files carry the reserved key-part prefix, so no key can ever name one. */
export const TEMP_PREFIX = `${RESERVED_PART_PREFIX}tmp-`;

/**
 * The one place a path under the root is built. Joins `parts` onto `root` and refuses any
 * result that is not strictly inside it, whatever the parts hold. Keys are parsed before they
 * get here, so a refusal means a bug upstream: it is reported as Forbidden, without the path.
 */
export function confinedJoin(root: string, ...parts: string[]): string {
  const full = resolve(root, ...parts);
  const rel = relative(root, full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new StorageError('Forbidden', 'path escapes the bucket root');
  }
  return full;
}

/**
 * Checks that `dir` (built by confinedJoin) holds no symbolic link between the root and itself:
 * its real path must be the path itself, since the root is stored as a real path. A symlink
 * planted inside the root cannot then lead a read or write outside it.
 * Synchronous, like the other metadata calls (see SYNC_METADATA in context.ts).
 */
export async function assertNoSymlinks(dir: string): Promise<void> {
  assertNoSymlinksSync(dir);
}

export function assertNoSymlinksSync(dir: string): void {
  const real = realpathSync.native(dir);
  if (real !== dir) throw new StorageError('Forbidden', 'the key crosses a symbolic link, which is not followed');
}

/**
 * Most file systems cap a name at 255 bytes; sidecar names add up to 5 (`.json`). Keys are
 * checked against this before any I/O, so a long part fails at once instead of after the upload.
 */
export const MAX_PART_BYTES = 250;

/**
 * This process's run: with the pid it tells our own temps (in flight, maybe another backend's on
 * the same folder) from those an earlier process with the same pid left (pid 1 in a container).
 */
export const PROCESS_RUN = randomBytes(4).toString('hex');

/** `.bg-tmp-<pid>-<run>-<random>`: a start-up sweep spares the temps of live writers (tempOwner). */
export function tempName(): string {
  return `${TEMP_PREFIX}${process.pid}-${PROCESS_RUN}-${randomBytes(8).toString('hex')}`;
}

/** Who made a temp: pid and run (absent in names of older versions), or undefined for names not made by tempName. */
export function tempOwner(name: string): { pid: number; run?: string } | undefined {
  const match = /^\.bg-tmp-(\d+)-(?:([0-9a-f]{8})-)?/.exec(name);
  return match ? { pid: Number(match[1]), ...(match[2] ? { run: match[2] } : {}) } : undefined;
}

/**
 * Where the sidecar of a key lives, as parts under `.bucketgate/meta/`. Folder parts get `.d`
 * and the file part gets `.json`, so `uploads/a` (→ `a.json`) and `uploads/a.json/b`
 * (→ `a.json.d/b.json`) can never collide, as plain `<key>.json` would.
 */
export function sidecarParts(parts: readonly string[]): string[] {
  const [segment, ...rest] = parts;
  const file = rest.pop();
  if (segment === undefined || file === undefined) throw new StorageError('Internal', 'key without a filename');
  return [INTERNAL_DIR, META_DIR, segment, ...rest.map((p) => `${p}.d`), `${file}.json`];
}
