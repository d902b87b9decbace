import { join } from 'node:path';
import { createLocalBackend } from '../../src/backends/local/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import type { Backend } from '../../src/core/backend.js';
import { DEFAULT_SEGMENTS, KeyRules } from '../../src/core/keys.js';
import { tempFiles } from './helpers.js';

/**
 * What a store holds after a crash, checked from outside the service: temp files (looked for
 * before anything opens the folder, since opening sweeps them), catalog rows without an object,
 * objects without a row, and the outbox. Works on a stopped or a running service's folder.
 */
export interface Audit {
  tempFiles: number;
  rows: number;
  objects: number;
  orphanRows: string[];
  orphanObjects: string[];
  outboxPending: number;
  outboxFailed: number;
  fallbackBlobs: number;
  orphanFallbackBlobs: number;
}

async function keysOf(backend: Backend, prefixes: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const prefix of prefixes) {
    let cursor: string | undefined;
    do {
      const page = await backend.list(prefix, { cursor, limit: 1000 });
      for (const o of page.objects) out.set(o.key, o.size);
      cursor = page.cursor;
    } while (cursor);
  }
  return out;
}

export async function auditLocalStore(bucketPath: string, opts: { catalogUrl?: string; primary?: Backend } = {}): Promise<Audit> {
  const temps = (await tempFiles(bucketPath)).length;
  const primary = opts.primary ?? (await createLocalBackend({ root: bucketPath, fsync: false }));
  const fallbackRoot = join(bucketPath, '.bucketgate', 'fallback');
  const fallback = await createLocalBackend({ root: fallbackRoot, keys: new KeyRules(['outbox']), fsync: false });
  const catalog = await openCatalog(opts.catalogUrl ?? join(bucketPath, '.bucketgate', 'catalog.sqlite'));
  try {
    const objects = await keysOf(primary, DEFAULT_SEGMENTS.map((s) => `${s}/`));
    const rows = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const page = await catalog.list({ cursor, limit: 1000 });
      for (const r of page.items) rows.set(r.key, r.size);
      cursor = page.cursor;
    } while (cursor);
    // Keys waiting in the outbox are whole on the fallback: they count as present.
    const live = await catalog.outbox.liveUnder('', { limit: 1_000_000 });
    const queuedPut = new Set(live.filter((e) => e.op === 'put').map((e) => e.key));
    const queuedDelete = new Set(live.filter((e) => e.op === 'delete').map((e) => e.key));
    const stats = await catalog.outbox.stats();
    const blobs = await keysOf(fallback, ['outbox/']);
    const liveBlobs = new Set(live.map((e) => e.blob).filter((b): b is string => b !== null));
    return {
      tempFiles: temps + (await tempFiles(fallbackRoot)).length,
      rows: rows.size,
      objects: objects.size,
      orphanRows: [...rows.keys()].filter((k) => !(objects.has(k) && !queuedDelete.has(k)) && !queuedPut.has(k)),
      orphanObjects: [...objects.keys()].filter((k) => !rows.has(k) && !queuedDelete.has(k)),
      outboxPending: stats.pending,
      outboxFailed: stats.failed,
      fallbackBlobs: blobs.size,
      orphanFallbackBlobs: [...blobs.keys()].filter((b) => !liveBlobs.has(b)).length,
    };
  } finally {
    await catalog.close();
    await fallback.close();
    if (!opts.primary) await primary.close();
  }
}
