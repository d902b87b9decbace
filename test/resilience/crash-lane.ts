import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalBackend } from '../../src/backends/local/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import { reindex } from '../../src/catalog/reindex.js';
import { DEFAULT_SEGMENTS } from '../../src/core/keys.js';
import { auditLocalStore } from './audit.js';
import { bytes, sha256, tempDir, tempFiles } from './helpers.js';
import { type ServiceProcess, client, respawn, spawnService } from './service-process.js';

/**
 * One lane of kill -9 trials (used by crash.test.ts and scripts/resilience-run.ts): a real
 * service process on its own folder; each trial starts four uploads, kills the service with
 * SIGKILL at a random moment, restarts it and checks every acknowledged upload. Trials run in
 * blocks with the primary up or down (then uploads land on the fallback and the outbox), and
 * at the end the outbox must drain, SIGTERM must exit 0, and the store must hold no debris.
 */
/** Trials run in blocks with the primary up or down (uploads then land on the fallback). */
const BLOCK = 3;

export function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

interface Acked {
  id: string;
  sha: string;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function crashLane(n: number, trials: number, dirs: string[] = []) {
  const dir = await tempDir(`bg-crash-${n}-`);
  dirs.push(dir);
  const faults = join(dir, 'faults.json');
  const setDown = (down: boolean) => writeFileSync(faults, JSON.stringify({ seed: n, down }));
  setDown(false);
  const env = {
    BHIV_FAULTS: `@${faults}`,
    BHIV_RETRY_BASE_DELAY_MS: '5',
    BHIV_CIRCUIT_FAILURES: '3',
    BHIV_CIRCUIT_HALF_OPEN_MS: '200',
    BHIV_REPLAY_INTERVAL_MS: '100',
  };
  let svc: ServiceProcess = await spawnService({ bucketPath: dir, env });
  const random = rng(1000 + n);
  const acked = new Map<string, Acked>();
  const stats = { uploads: 0, acknowledged: 0, cutByKill: 0, duringOutage: 0, lost: 0, corrupt: 0, tempFilesAfterRestart: 0, missing: [] as string[], leftoverTemps: [] as string[] };
  try {
    for (let t = 0; t < trials; t++) {
      const outage = Math.floor(t / BLOCK) % 2 === 1;
      setDown(outage);
      const mine = new Map<string, Acked>();
      const uploads = Array.from({ length: 4 }, async (_, j) => {
        const size = Math.floor(1024 + random() * (random() < 0.3 ? 2 << 20 : 64 << 10));
        const data = bytes(size, n * 1_000_000 + t * 10 + j);
        const filename = `t${t}-${j}.bin`;
        stats.uploads++;
        const r = await client.upload(svc, 'uploads', filename, data).catch(() => undefined);
        if (r?.status === 201 && r.object) {
          if (r.object.sha256 !== sha256(data)) stats.corrupt++;
          mine.set(`uploads/${filename}`, { id: r.object.id, sha: sha256(data) });
        }
      });
      await new Promise((r) => setTimeout(r, 5 + random() * 500));
      await svc.kill9();
      await Promise.allSettled(uploads);
      stats.acknowledged += mine.size;
      stats.cutByKill += 4 - mine.size;
      if (outage) stats.duringOutage += mine.size;
      for (const [k, v] of mine) acked.set(k, v);
      svc = await respawn(svc, dir);
      const leftovers = await tempFiles(dir, { leftoversOnly: true });
      stats.tempFilesAfterRestart += leftovers.length;
      stats.leftoverTemps.push(...leftovers.slice(0, 5));
      for (const [key, a] of mine) {
        const got = await client.download(svc, a.id);
        if (got.status !== 200) stats.lost++;
        else if (sha256(got.bytes) !== a.sha) stats.corrupt++;
        if (got.status !== 200) stats.missing.push(`${key} ${got.status} after trial ${t}`);
      }
    }
    // Primary back for good: the outbox drains, everything acknowledged is on the primary.
    setDown(false);
    await waitFor('the outbox to drain', async () => ((await client.status(svc)).fallback.pending === 0 ? true : undefined));
    for (const [, a] of acked) {
      const got = await client.download(svc, a.id);
      if (got.status !== 200) stats.lost++;
      else if (sha256(got.bytes) !== a.sha) stats.corrupt++;
    }
    const code = await svc.terminate();
    const before = await auditLocalStore(dir);
    // The sweep: reindex adds objects whose upload was cut before its row was written (never acknowledged).
    const catalog = await openCatalog(join(dir, '.bucketgate', 'catalog.sqlite'));
    const backend = await createLocalBackend({ root: dir, fsync: false });
    await reindex(catalog, backend, { segments: [...DEFAULT_SEGMENTS] });
    await catalog.close();
    await backend.close();
    const after = await auditLocalStore(dir);
    return { stats, before, after, acked: acked.size, sigtermExit: code };
  } finally {
    await svc.kill9().catch(() => undefined);
  }
}

