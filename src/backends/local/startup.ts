import { type Dirent, readFileSync } from 'node:fs';
import { lstat, mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyRules } from '../../core/keys.js';
import { isFsError } from './fs-errors.js';
import { INTERNAL_DIR, META_DIR, PROCESS_RUN, TEMP_PREFIX, confinedJoin, tempOwner } from './paths.js';

/** Creates the internal folders and one folder per segment (the guide's folders by default). */
export async function createLayout(root: string, keys: KeyRules): Promise<void> {
  await mkdir(confinedJoin(root, INTERNAL_DIR, META_DIR), { recursive: true });
  for (const segment of keys.segments) await mkdir(confinedJoin(root, segment), { recursive: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return isFsError(err, 'EPERM'); // exists, owned by someone else
  }
  // A process killed with -9 stays a zombie until its parent reaps it: it answers signal 0, but
  // will never finish its temps. Linux says so in /proc/<pid>/stat (state Z or X).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (not Linux): trust the signal
  }
}

/**
 * A temp left by a crashed writer. Temps of a live process are in flight and spared: another one
 * (a CLI run beside the server on the same bucket), or this one (another backend opened on the
 * same folder). Those of an earlier process that had our pid, and unknown ones, are leftovers.
 */
function isLeftover(name: string): boolean {
  if (!name.startsWith(TEMP_PREFIX)) return false;
  const owner = tempOwner(name);
  if (owner === undefined) return true;
  if (owner.pid === process.pid) return owner.run !== PROCESS_RUN;
  return !isAlive(owner.pid);
}

/**
 * Removes leftover temp files under the segment folders and the sidecar tree. Never follows
 * symlinks and never touches the rest of `.bucketgate/` (the catalog lives there).
 */
export async function sweepTemps(root: string, keys: KeyRules): Promise<number> {
  let removed = 0;
  const sweep = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      // A segment folder that is a symbolic link is not followed: what it points at is not ours.
      if (!(await lstat(dir)).isDirectory()) return;
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isFsError(err, 'ENOENT', 'ENOTDIR')) return;
      throw err;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await sweep(path);
      else if (entry.isFile() && isLeftover(entry.name)) {
        await unlink(path).catch(() => undefined);
        removed++;
      }
    }
  };
  for (const segment of keys.segments) await sweep(confinedJoin(root, segment));
  await sweep(confinedJoin(root, INTERNAL_DIR, META_DIR));
  // Health probes live directly in `.bucketgate/`.
  const internal = confinedJoin(root, INTERNAL_DIR);
  for (const entry of await readdir(internal, { withFileTypes: true })) {
    if (entry.isFile() && isLeftover(entry.name)) {
      await unlink(join(internal, entry.name)).catch(() => undefined);
      removed++;
    }
  }
  return removed;
}
