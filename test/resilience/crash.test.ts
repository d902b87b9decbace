import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../src/backends/local/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import { reindex } from '../../src/catalog/reindex.js';
import { DEFAULT_SEGMENTS } from '../../src/core/keys.js';
import { auditLocalStore } from './audit.js';
import { bytes, sha256, tempDir, tempFiles } from './helpers.js';
import { type ServiceProcess, client, respawn, spawnService } from './service-process.js';

/**
 * kill -9 of the real service while uploads are in flight, then a restart, many times over:
 * every acknowledged upload must come back whole (from the primary or, while it is down, from
 * the fallback), nothing half-written may be visible, no temp file may survive the restart,
 * and the outbox must pick up where it stopped. Trials run in two lanes (two services, two
 * folders) to use both cores. BHIV_CRASH_TRIALS sets the total (default 100).
 */
const TRIALS = Number(process.env.BHIV_CRASH_TRIALS ?? 100);
const LANES = 2;
/** Trials run in blocks with the primary up or down (uploads then land on the fallback). */
const BLOCK = 5;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function rng(seed: number) {
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

async function lane(n: number, trials: number) {
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
  const stats = { uploads: 0, acknowledged: 0, cutByKill: 0, duringOutage: 0, lost: 0, corrupt: 0, tempFilesAfterRestart: 0 };
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
          expect(r.object.sha256).toBe(sha256(data));
          mine.set(`uploads/${filename}`, { id: r.object.id, sha: sha256(data) });
        }
      });
      await new Promise((r) => setTimeout(r, 5 + random() * 250));
      await svc.kill9();
      await Promise.allSettled(uploads);
      stats.acknowledged += mine.size;
      stats.cutByKill += 4 - mine.size;
      if (outage) stats.duringOutage += mine.size;
      for (const [k, v] of mine) acked.set(k, v);
      svc = await respawn(svc, dir);
      stats.tempFilesAfterRestart += (await tempFiles(dir)).length;
      for (const [key, a] of mine) {
        const got = await client.download(svc, a.id);
        if (got.status !== 200) stats.lost++;
        else if (sha256(got.bytes) !== a.sha) stats.corrupt++;
        expect(`${key} ${got.status}`).toBe(`${key} 200`);
      }
    }
    // Primary back for good: the outbox drains, everything acknowledged is on the primary.
    setDown(false);
    await waitFor('the outbox to drain', async () => ((await client.status(svc)).fallback.pending === 0 ? true : undefined));
    for (const [key, a] of acked) {
      const got = await client.download(svc, a.id);
      if (got.status !== 200) stats.lost++;
      else if (sha256(got.bytes) !== a.sha) stats.corrupt++;
      expect(`${key} ${got.status} ${sha256(got.bytes)}`).toBe(`${key} 200 ${a.sha}`);
    }
    const code = await svc.terminate();
    expect(code).toBe(0);
    const before = await auditLocalStore(dir);
    // The sweep: reindex adds objects whose upload was cut before its row was written (never acknowledged).
    const catalog = await openCatalog(join(dir, '.bucketgate', 'catalog.sqlite'));
    const backend = await createLocalBackend({ root: dir, fsync: false });
    await reindex(catalog, backend, { segments: [...DEFAULT_SEGMENTS] });
    await catalog.close();
    await backend.close();
    const after = await auditLocalStore(dir);
    return { stats, before, after, acked: acked.size };
  } finally {
    await svc.kill9().catch(() => undefined);
  }
}

describe('kill -9 of the service mid-upload', () => {
  it(`loses no acknowledged upload and leaves no debris in ${TRIALS} trials`, { timeout: 900_000 }, async () => {
    const per = Math.ceil(TRIALS / LANES);
    const results = await Promise.all(Array.from({ length: LANES }, (_, n) => lane(n, per)));
    for (const r of results) {
      expect(r.stats.lost).toBe(0);
      expect(r.stats.corrupt).toBe(0);
      expect(r.stats.tempFilesAfterRestart).toBe(0);
      expect(r.before.orphanRows).toEqual([]);
      expect(r.before.tempFiles).toBe(0);
      expect(r.before.outboxPending).toBe(0);
      expect(r.before.orphanFallbackBlobs).toBe(0);
      expect(r.after.orphanObjects).toEqual([]);
      expect(r.after.orphanRows).toEqual([]);
      expect(r.after.fallbackBlobs).toBe(0);
      expect(r.stats.acknowledged).toBeGreaterThan(0);
      expect(r.stats.duringOutage).toBeGreaterThan(0);
    }
    console.log(JSON.stringify({ trials: TRIALS, lanes: results.map((r) => ({ ...r.stats, orphanObjectsBeforeSweep: r.before.orphanObjects.length })) }));
  });
});
