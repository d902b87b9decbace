import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createLocalBackend } from '../../src/backends/local/index.js';
import type { Backend } from '../../src/core/backend.js';
import { StorageError } from '../../src/core/errors.js';

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Deterministic bytes: the same (seed, size) always gives the same body. */
export function bytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function tempDir(prefix = 'bg-res-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function localBackend(root?: string): Promise<{ backend: Backend; root: string; cleanup: () => Promise<void> }> {
  const dir = root ?? (await tempDir());
  const backend = await createLocalBackend({ root: dir, fsync: false });
  return { backend, root: dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Every file under `dir` whose name marks it as a temp (`.bg-tmp-<pid>-…`). With
 * `leftoversOnly`, only those whose writer is gone: a running service's temps are writes in
 * flight (its replayer, say), not debris.
 */
export async function tempFiles(dir: string, opts: { leftoversOnly?: boolean } = {}): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.startsWith('.bg-tmp-')) {
        const pid = Number(/^\.bg-tmp-(\d+)-/.exec(e.name)?.[1]);
        if (!opts.leftoversOnly || !Number.isInteger(pid) || !alive(pid)) found.push(p);
      }
    }
  };
  await walk(dir);
  return found;
}

/** The code of what `p` rejected with, or 'ok'. */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof StorageError ? err.code : `raw:${String(err)}`;
  }
}

/** The service's resilience stack over a local primary in `root`, with a fault injector to take it down. */
/** `wrapPrimary` stands between the local primary and the resilience layers (e.g. a primary that misbehaves in one way). */
export async function resilientLocal(root: string, env: Record<string, string> = {}, catalogUrl?: string, wrapPrimary: (primary: Backend) => Backend = (p) => p) {
  const { loadConfig } = await import('../../src/config/index.js');
  const { openCatalog } = await import('../../src/catalog/index.js');
  const { Resilience } = await import('../../src/service/layers.js');
  const config = loadConfig({
    BHIV_BUCKET_PATH: root,
    BHIV_FAULTS: '{"seed":1}',
    BHIV_RETRY_BASE_DELAY_MS: '1',
    BHIV_RETRY_MAX_DELAY_MS: '5',
    BHIV_CIRCUIT_HALF_OPEN_MS: '100',
    BHIV_REPLAY_INTERVAL_MS: '50',
    ...env,
  });
  const primary = await createLocalBackend({ root, fsync: false });
  const catalog = await openCatalog(catalogUrl ?? config.databaseUrl);
  // The tests replay by hand (drain → runOnce), so writes divert without start().
  const resilience = await Resilience.create(config, wrapPrimary(primary), catalog, { divert: 'always' });
  return {
    primary,
    catalog,
    resilience,
    backend: resilience.backend,
    faults: resilience.faults!,
    down: () => resilience.faults!.update({ down: true }),
    up: () => resilience.faults!.update({ down: false }),
    /** Replays until nothing is pending (the primary must be up). */
    async drain(): Promise<void> {
      const replayer = resilience.fallback!.replayer;
      for (let i = 0; i < 200; i++) {
        await replayer.runOnce();
        const stats = await catalog.outbox.stats();
        if (stats.pending === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('outbox did not drain');
    },
    async close() {
      await resilience.stop();
      await resilience.backend.close();
      await catalog.close();
    },
  };
}
