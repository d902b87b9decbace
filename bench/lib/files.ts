import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MiB } from './measure.js';

/**
 * One scratch folder per bench process (BENCH_TMPDIR, default the OS temp dir), removed at
 * exit. Every source file, bucket root and copy lives under it, so all of them share one
 * file system: `cp` and the library's rename-into-place do the same kind of work.
 */
let scratch: string | undefined;

export function scratchDir(): string {
  if (scratch) return scratch;
  const base = process.env.BENCH_TMPDIR || tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'bucketgate-bench-'));
  scratch = dir;
  // run.ts turns SIGINT/SIGTERM into exit, so this runs on Ctrl-C too.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh folder inside the scratch folder. */
export async function freshDir(name: string): Promise<string> {
  const dir = join(scratchDir(), name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Size of the big test file: BENCH_MIB (default 100) MiB. */
export function bigFileBytes(): number {
  const fromEnv = Number(process.env.BENCH_MIB);
  return (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 100) * MiB;
}

const randomFiles = new Map<number, Promise<string>>();

/**
 * A file of `bytes` random bytes (incompressible, so no layer can cheat), created once per
 * process and shared by every benchmark. It is fsynced, so its own write-back does not land
 * in the middle of a measurement.
 */
export function randomFile(bytes: number = bigFileBytes()): Promise<string> {
  let made = randomFiles.get(bytes);
  if (!made) {
    made = writeRandomFile(join(scratchDir(), `random-${bytes}.bin`), bytes);
    randomFiles.set(bytes, made);
  }
  return made;
}

async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const fh = await open(path, 'wx');
  try {
    const chunk = Buffer.allocUnsafe(MiB);
    for (let written = 0; written < bytes; ) {
      const n = Math.min(chunk.length, bytes - written);
      randomFillSync(chunk, 0, n);
      await fh.write(chunk, 0, n, written);
      written += n;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return path;
}

/** fsync one file, so dirty pages one case left behind are not flushed during the next. */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** True when both paths are on the same device (same file system). */
export async function sameFileSystem(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  return sa.dev === sb.dev;
}

/** Removes a path if present. */
export function removeQuietly(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
