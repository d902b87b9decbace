import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { crashLane } from './crash-lane.js';

/**
 * kill -9 of the real service while uploads are in flight, then a restart, many times over:
 * every acknowledged upload must come back whole (from the primary or, while it is down, from
 * the fallback), nothing half-written may be visible, no temp file may survive the restart,
 * and the outbox must pick up where it stopped. Trials run in two lanes (two services, two
 * folders) to use both cores. BHIV_CRASH_TRIALS sets the total (default 100).
 */
const TRIALS = Number(process.env.BHIV_CRASH_TRIALS ?? 100);
const LANES = 2;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('kill -9 of the service mid-upload', () => {
  it(`loses no acknowledged upload and leaves no debris in ${TRIALS} trials`, { timeout: 900_000 }, async () => {
    const per = Math.ceil(TRIALS / LANES);
    const results = await Promise.all(Array.from({ length: LANES }, (_, n) => crashLane(n, per, dirs)));
    for (const r of results) {
      expect(r.stats.missing).toEqual([]);
      expect(r.sigtermExit).toBe(0);
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
