import { rm } from 'node:fs/promises';
import { crashLane } from '../../test/resilience/crash-lane.js';
import { log, report } from './report.js';

/** ≥ 1,000 random kill -9 trials of the real service mid-upload, in two lanes. */
export async function kill9(trials: number): Promise<void> {
  const dirs: string[] = [];
  const started = Date.now();
  log(`kill -9: ${trials} trials in 2 lanes…`);
  try {
    const lanes = await Promise.all([0, 1].map((n) => crashLane(n, Math.ceil(trials / 2), dirs)));
    const sum = (f: (l: (typeof lanes)[number]) => number) => lanes.reduce((n, l) => n + f(l), 0);
    const s = 'kill -9';
    report({ scenario: s, figure: 'trials', value: sum((l) => l.stats.uploads / 4), unit: 'trials', min: 1000 });
    report({ scenario: s, figure: 'uploads started', value: sum((l) => l.stats.uploads), unit: 'uploads' });
    report({ scenario: s, figure: 'acknowledged', value: sum((l) => l.stats.acknowledged), unit: 'uploads' });
    report({ scenario: s, figure: 'acknowledged while the primary was down (fallback)', value: sum((l) => l.stats.duringOutage), unit: 'uploads' });
    report({ scenario: s, figure: 'cut by the kill (never acknowledged)', value: sum((l) => l.stats.cutByKill), unit: 'uploads' });
    report({ scenario: s, figure: 'acknowledged writes lost', value: sum((l) => l.stats.lost + l.stats.missing.length), unit: 'writes', max: 0 });
    report({ scenario: s, figure: 'acknowledged writes corrupt', value: sum((l) => l.stats.corrupt), unit: 'writes', max: 0 });
    report({ scenario: s, figure: 'temp files after restarts', value: sum((l) => l.stats.tempFilesAfterRestart + l.after.tempFiles), unit: 'files', max: 0 });
    report({ scenario: s, figure: 'orphan rows (row, no object)', value: sum((l) => l.before.orphanRows.length + l.after.orphanRows.length), unit: 'rows', max: 0 });
    report({ scenario: s, figure: 'objects without a row before the sweep (cut uploads, whole)', value: sum((l) => l.before.orphanObjects.length), unit: 'objects' });
    report({ scenario: s, figure: 'orphan objects after the sweep (reindex)', value: sum((l) => l.after.orphanObjects.length), unit: 'objects', max: 0 });
    report({ scenario: s, figure: 'orphan fallback blobs after restart', value: sum((l) => l.before.orphanFallbackBlobs + l.after.fallbackBlobs), unit: 'blobs', max: 0 });
    report({ scenario: s, figure: 'outbox pending at the end', value: sum((l) => l.after.outboxPending), unit: 'entries', max: 0 });
    report({ scenario: s, figure: 'SIGTERM exits not 0', value: lanes.filter((l) => l.sigtermExit !== 0).length, unit: 'lanes', max: 0 });
    report({ scenario: s, figure: 'wall time', value: (Date.now() - started) / 1000, unit: 's' });
  } finally {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}
