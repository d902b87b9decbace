import { lstat, mkdir, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type LocalBackendOptions, createLocalBackend } from '../../../src/backends/local/index.js';
import type { LocalBackend } from '../../../src/backends/local/index.js';

export interface TempBucket {
  /** The folder holding the root: anything created here beside `bucket/` escaped the root. */
  parent: string;
  root: string;
  backend: LocalBackend;
  /** Starts another backend over the same root (a restart). */
  reopen(opts?: Partial<LocalBackendOptions>): Promise<LocalBackend>;
  cleanup(): Promise<void>;
}

export async function tempBucket(opts: Partial<LocalBackendOptions> = {}): Promise<TempBucket> {
  const parent = await mkdtemp(join(tmpdir(), 'bucketgate-local-'));
  const root = join(parent, 'bucket');
  await mkdir(root);
  const reopen = (more: Partial<LocalBackendOptions> = {}) => createLocalBackend({ root, ...opts, ...more });
  return { parent, root, backend: await reopen(), reopen, cleanup: () => rm(parent, { recursive: true, force: true }) };
}

/** Every path under `dir` with its type, size and mtime: two equal snapshots mean nothing changed. */
export async function snapshotTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      const st = await lstat(path);
      const rel = relative(dir, path);
      if (entry.isSymbolicLink()) out.push(`${rel} -> ${await readlink(path)}`);
      else if (entry.isDirectory()) {
        out.push(`${rel}/`);
        await walk(path);
      } else out.push(`${rel} ${st.size} ${st.mtimeMs}`);
    }
  };
  await walk(dir);
  return out.sort();
}

/** All files under `dir` (relative paths), for checking what a backend left on disk. */
export async function filesUnder(dir: string): Promise<string[]> {
  return (await snapshotTree(dir)).filter((line) => !line.endsWith('/')).map((line) => line.split(' ')[0] as string);
}
