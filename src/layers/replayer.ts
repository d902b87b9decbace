import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import type { Backend } from '../core/backend.js';
import { StorageError, isStorageError } from '../core/errors.js';
import { primaryUnavailable } from './fallback.js';
import { ClaimLease } from './claim-lease.js';
import type { Outbox, OutboxEntry } from './outbox.js';
import { replayable } from './replayable.js';

/**
 * Moves what the outbox holds to the primary once it is healthy: claims entries (a lease, so a
 * second instance never replays the same one, and a crashed one's claims lapse), writes each to
 * the primary with its size and SHA-256 declared (the backend refuses a mismatch), checks the
 * result with a head, marks the entry done, and only then removes the fallback copy. Deletes
 * are replayed as deletes. An entry a newer one superseded is skipped. A crash anywhere leaves
 * either a pending entry (replayed again: every step is idempotent) or an orphan blob (swept).
 */
export interface ReplayerOptions {
  /** The primary with its circuit and retries, but without the fallback layer. */
  primary: Backend;
  fallback: Backend;
  outbox: Outbox;
  fallbackId: string;
  intervalMs: number;
  /** Entries claimed at a time. */
  batch: number;
  concurrency: number;
  leaseMs: number;
  /** Blobs up to this size are read into memory, so the retry layer can resend them. */
  bufferBytes: number;
  /** Replay attempts of an entry the primary keeps refusing (not for outages) before it is parked as failed. */
  maxAttempts: number;
  onReplayed?: (entry: OutboxEntry, outcome: 'done' | 'superseded' | 'failed' | 'lost') => void;
}

export const DEFAULT_REPLAYER = { intervalMs: 1000, batch: 32, concurrency: 4, leaseMs: 30_000, bufferBytes: 8 << 20, maxAttempts: 5 };

export interface ReplayerStatus {
  owner: string;
  running: boolean;
  replayed: number;
  superseded: number;
  failed: number;
  /** Entries whose fallback copy vanished before replay: must stay 0. */
  lost: number;
  /** Copies written to the primary (with two instances, their sum shows nothing was copied twice). */
  copied: number;
  lastRunAt: string | null;
  lastReplayAt: string | null;
  lastError: string | null;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export class Replayer {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<number> | undefined;
  /** Rounds are scheduled (start() was called). */
  private scheduled = false;
  /** stop() was called: finish the entries in hand, claim no more. */
  private closing = false;
  private readonly counts = { replayed: 0, superseded: 0, failed: 0, lost: 0, copied: 0 };
  private lastRunAt: Date | null = null;
  private lastReplayAt: Date | null = null;
  private lastError: string | null = null;

  constructor(private readonly opts: ReplayerOptions) {}

  start(): void {
    this.scheduled = true;
    this.closing = false;
    this.schedule(0);
  }

  /** Stops scheduling and waits for the round in flight (its claims are finished or lapse). */
  async stop(): Promise<void> {
    this.scheduled = false;
    this.closing = true;
    clearTimeout(this.timer);
    await this.round?.catch(() => undefined);
  }

  status(): ReplayerStatus {
    return {
      owner: this.owner,
      running: this.scheduled,
      ...this.counts,
      lastRunAt: this.lastRunAt?.toISOString() ?? null,
      lastReplayAt: this.lastReplayAt?.toISOString() ?? null,
      lastError: this.lastError,
    };
  }

  private schedule(ms: number): void {
    if (!this.scheduled) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.runOnce()
        .catch((err: unknown) => {
          this.lastError = err instanceof Error ? err.message : String(err);
        })
        .finally(() => this.schedule(this.opts.intervalMs));
    }, ms);
    this.timer.unref();
  }

  /** One round: replays until the outbox is drained or the primary fails. Returns entries handled. */
  runOnce(): Promise<number> {
    this.round ??= this.replayRound().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  private async replayRound(): Promise<number> {
    const { outbox, fallbackId } = this.opts;
    this.lastRunAt = new Date();
    const waiting = await outbox.stats(fallbackId);
    if (waiting.pending === 0) return 0;
    try {
      await this.opts.primary.health();
    } catch (err) {
      this.lastError = `primary not healthy: ${err instanceof Error ? err.message : String(err)}`;
      return 0;
    }
    let handled = 0;
    while (!this.closing) {
      const claimedAt = Date.now();
      const entries = await outbox.claim({ owner: this.owner, fallback: fallbackId, limit: this.opts.batch, leaseMs: this.opts.leaseMs });
      if (entries.length === 0) break;
      const lease = new ClaimLease(
        entries.map((e) => e.seq),
        this.opts.leaseMs,
        claimedAt,
        (seqs) => outbox.renew(seqs, this.owner, this.opts.leaseMs),
      );
      let primaryDown = false;
      try {
        const queue = [...entries];
        const worker = async () => {
          for (let e = queue.shift(); e; e = queue.shift()) {
            // Never throws: a worker that failed would close the lease while the others still write.
            if (primaryDown) {
              await outbox.release(e.seq, this.owner, { error: 'primary became unavailable', retryAt: new Date(), attempt: false }).catch(() => undefined);
            } else if (!(await this.replayOne(e, lease.signal(e.seq)))) primaryDown = true;
            lease.release(e.seq);
          }
        };
        await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, entries.length) }, worker));
      } finally {
        lease.close();
      }
      handled += entries.length;
      if (primaryDown) break;
    }
    return handled;
  }

  /**
   * Replays one claimed entry; false when the primary turned out to be unavailable. `claim`
   * aborts once the claim is lost or may lapse: the write to the primary stops then, and the
   * entry is left to whoever holds it next.
   */
  private async replayOne(entry: OutboxEntry, claim: AbortSignal): Promise<boolean> {
    const { outbox, primary } = this.opts;
    try {
      const newest = (await outbox.latest([entry.key])).get(entry.key);
      if (newest && newest.seq > entry.seq) {
        const finished = await outbox.finish(entry.seq, this.owner, 'superseded');
        this.note(entry, 'superseded');
        if (finished) await this.dropBlob(entry);
        return true;
      }
      if (entry.op === 'delete') {
        claim.throwIfAborted();
        await primary.delete(entry.key);
      } else {
        const copied = await this.copyToPrimary(entry, claim);
        if (!copied) return true;
      }
      if (await outbox.finish(entry.seq, this.owner, 'done')) {
        // Counted before the blob goes: the count then lags the catalog by no more than a tick.
        this.note(entry, 'done');
        if (entry.op === 'put') await this.dropBlob(entry);
      }
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.lastError = `${entry.op} ${entry.key}: ${message}`;
      if (claim.aborted) {
        // Not this entry's fault: give it back if the claim is still ours, for a later round.
        const reason = claim.reason instanceof Error ? claim.reason.message : 'the claim lapsed';
        await outbox.release(entry.seq, this.owner, { error: `replay stopped: ${reason}`, retryAt: new Date(Date.now() + this.opts.intervalMs), attempt: false }).catch(() => undefined);
        return true;
      }
      if (primaryUnavailable(err)) {
        await outbox.release(entry.seq, this.owner, { error: message, retryAt: new Date(Date.now() + this.opts.intervalMs), attempt: false }).catch(() => undefined);
        return false;
      }
      const failed = entry.attempts + 1 >= this.opts.maxAttempts;
      const backoff = Math.min(60_000, this.opts.intervalMs * 2 ** entry.attempts);
      const left = await outbox.release(entry.seq, this.owner, { error: message, failed, retryAt: new Date(Date.now() + backoff) }).catch(() => undefined);
      if (left === 'superseded') {
        this.note(entry, 'superseded');
        await this.dropBlob(entry);
      } else if (left === 'failed') this.note(entry, 'failed');
      return true;
    }
  }

  /** Writes the fallback copy to the primary and checks it arrived whole; false when there was nothing to copy. */
  private async copyToPrimary(entry: OutboxEntry, claim: AbortSignal): Promise<boolean> {
    const { primary, fallback, outbox } = this.opts;
    let source: Readable;
    try {
      source = (await fallback.get(entry.blob!)).body;
    } catch (err) {
      if (!isStorageError(err, 'NotFound')) throw err;
      // The copy is gone. If the primary has exactly these bytes, an earlier replay got this far
      // before it crashed; otherwise an accepted write was lost — park it loudly, never hide it.
      const there = await primary.head(entry.key).catch(() => undefined);
      if (there && there.size === entry.size && (!there.sha256 || there.sha256 === entry.sha256)) return true;
      await outbox.release(entry.seq, this.owner, { error: 'the fallback copy is missing', failed: true });
      this.note(entry, 'lost');
      return false;
    }
    const small = entry.size !== null && entry.size <= this.opts.bufferBytes;
    const body = small ? replayable(await readAll(source)) : source;
    claim.throwIfAborted();
    await primary.put(entry.key, body, {
      contentType: entry.contentType ?? undefined,
      metadata: entry.metadata ?? undefined,
      cacheControl: entry.cacheControl ?? undefined,
      contentLength: entry.size ?? undefined,
      sha256: entry.sha256 ?? undefined,
      signal: claim,
    });
    this.counts.copied += 1;
    const check = await primary.head(entry.key);
    if (check.size !== entry.size || (check.sha256 && entry.sha256 && check.sha256 !== entry.sha256)) {
      throw new StorageError('ChecksumMismatch', `replayed ${entry.key} does not match what was accepted (${check.size} bytes, expected ${entry.size})`);
    }
    return true;
  }

  private async dropBlob(entry: OutboxEntry): Promise<void> {
    if (entry.blob && entry.fallback === this.opts.fallbackId) await this.opts.fallback.delete(entry.blob).catch(() => undefined);
  }

  private note(entry: OutboxEntry, outcome: 'done' | 'superseded' | 'failed' | 'lost'): void {
    if (outcome === 'done') {
      this.counts.replayed += 1;
      this.lastReplayAt = new Date();
    } else this.counts[outcome] += 1;
    this.opts.onReplayed?.(entry, outcome);
  }
}
