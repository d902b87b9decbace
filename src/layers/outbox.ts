/**
 * The durable outbox of the fallback layer: every write the primary could not take, in order.
 * It lives in the catalog (SQLite or PostgreSQL), so it survives a crash and is shared by every
 * instance that shares the catalog; `src/catalog/outbox.ts` implements it.
 *
 * Rules that keep it free of loss, duplicates and resurrected deletes:
 * - an entry is written only after its bytes are safe on the fallback (put), and its bytes are
 *   removed only after the entry is done or superseded;
 * - a new entry for a key supersedes the older unclaimed ones of that key, so at most one entry
 *   per key waits, plus perhaps one being replayed right now;
 * - a replayer claims the oldest pending entry of a key, never one whose key has an older entry
 *   still pending, with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a claim column with an
 *   expiry on SQLite); only the holder of a live claim can complete it.
 */
export type OutboxOperation = 'put' | 'delete';
/** `pending` waits for (or is in) replay; `failed` could not be replayed and still holds its bytes. */
export type OutboxState = 'pending' | 'done' | 'superseded' | 'failed';
/** What `release` left an entry as. */
export type ReleasedAs = 'pending' | 'failed' | 'superseded';

export interface NewOutboxEntry {
  key: string;
  op: OutboxOperation;
  /** Where the bytes wait on the fallback (put only). */
  blob: string | null;
  size: number | null;
  sha256: string | null;
  contentType: string | null;
  metadata: Record<string, string> | null;
  cacheControl: string | null;
  /** Which fallback store holds the blob; an instance replays only what its fallback holds. */
  fallback: string;
}

export interface OutboxEntry extends NewOutboxEntry {
  /** Increases with every entry: the order writes were accepted in. */
  seq: number;
  state: OutboxState;
  attempts: number;
  lastError: string | null;
  claimedBy: string | null;
  claimExpiresAt: Date | null;
  createdAt: Date;
  completedAt: Date | null;
}

export interface OutboxStats {
  pending: number;
  failed: number;
  /** Pending entries under a live claim: being replayed now. */
  claimed: number;
  oldestPendingAt: Date | null;
  lastCompletedAt: Date | null;
}

export interface ClaimOptions {
  owner: string;
  fallback: string;
  limit: number;
  leaseMs: number;
  now?: Date;
}

export interface Outbox {
  /** Records an accepted write; returns it and the entries it superseded (whose blobs may go). */
  enqueue(entry: NewOutboxEntry): Promise<{ entry: OutboxEntry; superseded: OutboxEntry[] }>;
  /** The newest live (pending or failed) entry of each key that has one. */
  latest(keys: readonly string[]): Promise<Map<string, OutboxEntry>>;
  /** Newest live entry per key, for keys starting with `prefix` and after `after`, up to `through` (inclusive), sorted by key. */
  liveUnder(prefix: string, range: { after?: string; through?: string; limit: number }): Promise<OutboxEntry[]>;
  /** Claims pending entries of `fallback` for `owner`, oldest first, at most one per key. */
  claim(opts: ClaimOptions): Promise<OutboxEntry[]>;
  /** Extends the owner's claims on these entries; returns those it still held (the others are lost). */
  renew(seqs: readonly number[], owner: string, leaseMs: number): Promise<number[]>;
  /** Ends a claimed entry as done or superseded; false when the claim was lost (someone else has it now). */
  finish(seq: number, owner: string, state: 'done' | 'superseded'): Promise<boolean>;
  /**
   * Gives a claim back after a failure: retried after `retryAt`, or parked as `failed` — or, when
   * a newer write of the key exists, ended as `superseded` (a failed entry is live and would hide
   * it). `attempt: false` for an outage, which says nothing about the entry and does not count.
   * Returns the state it left, or undefined when the claim was lost.
   */
  release(seq: number, owner: string, outcome: { error: string; retryAt?: Date; failed?: boolean; attempt?: boolean }): Promise<ReleasedAs | undefined>;
  stats(fallback?: string): Promise<OutboxStats>;
  /** Blobs that live entries of this fallback still need (the orphan sweep keeps these). */
  liveBlobs(fallback: string): Promise<Set<string>>;
}
