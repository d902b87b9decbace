import { hostname } from 'node:os';
import type { Backend } from '../core/backend.js';
import { BLOB_SEGMENT } from './fallback.js';
import type { Outbox } from './outbox.js';

/**
 * A blob is written before its outbox entry, so a crash between the two leaves bytes no entry
 * names (the write was never acknowledged). This removes them: at once when the writer was a
 * process of this host that is gone, otherwise only after `graceMs` — another live instance
 * sharing the folder may be between the two steps right now.
 */
export const ORPHAN_GRACE_MS = 10 * 60_000;

function writerGone(blobKey: string): boolean {
  const match = /^[^/]+\/([^.]+)\.(\d+)\./.exec(blobKey);
  if (!match) return false;
  const host = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'host';
  if (match[1] !== host) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function sweepOrphanBlobs(fallback: Backend, outbox: Outbox, fallbackId: string, graceMs = ORPHAN_GRACE_MS): Promise<number> {
  const live = await outbox.liveBlobs(fallbackId);
  const now = Date.now();
  const orphans: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await fallback.list(`${BLOB_SEGMENT}/`, { cursor, limit: 1000 });
    for (const o of page.objects) {
      if (live.has(o.key)) continue;
      if (writerGone(o.key) || now - o.lastModified.getTime() > graceMs) orphans.push(o.key);
    }
    cursor = page.cursor;
  } while (cursor);
  // Entries enqueued since the first look keep their blobs.
  const stillLive = orphans.length ? await outbox.liveBlobs(fallbackId) : live;
  const doomed = orphans.filter((k) => !stillLive.has(k));
  for (let i = 0; i < doomed.length; i += 500) await fallback.deleteMany(doomed.slice(i, i + 500));
  return doomed.length;
}
