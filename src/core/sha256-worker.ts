import { WorkerHashJob, postToWorker } from './hash-worker.js';

/**
 * One streamed body's SHA-256 on the shared hash worker (hash-worker.ts), so the hashing
 * overlaps the body's I/O instead of adding to it. Chunks are copied once (a memcpy) into
 * messages of up to 1 MiB, which are transferred; copies come back and are reused, so memory
 * stays at what is in flight instead of every copy becoming garbage that waits for a GC. The
 * spare copies are bounded in bytes: enough for every body in flight at its pending limit.
 */
const spare: ArrayBuffer[] = [];
/** Largest message: bodies are sent to the worker in copies of up to this many bytes. */
const MESSAGE_BYTES = 1024 * 1024;
/** Longest a chunk waits for more to share its message. */
const GATHER_MS = 2;
let spareBytes = 0;
const SPARE_BYTES = 16 * 1024 * 1024;

function bufferFor(bytes: number): Uint8Array {
  const index = spare.findIndex((b) => b.byteLength >= bytes);
  if (index < 0) return new Uint8Array(new ArrayBuffer(Math.max(bytes, 1 << 16)), 0, bytes);
  const buffer = spare.splice(index, 1)[0]!;
  spareBytes -= buffer.byteLength;
  return new Uint8Array(buffer, 0, bytes);
}

function giveBack(copy: Uint8Array): void {
  if (spareBytes + copy.buffer.byteLength > SPARE_BYTES) return;
  spare.push(copy.buffer as ArrayBuffer);
  spareBytes += copy.buffer.byteLength;
}

export class OffThreadSha256 extends WorkerHashJob {
  private pending = 0;
  private waiting: (() => void) | undefined;
  /**
   * Bytes gathered for the next message: socket reads are 64 KiB, and a message per read (a
   * worker wake-up each) cost more than the copy — a 100 MiB upload took ~0.33 s that way, ~0.20 s
   * with 1 MiB messages. Sending at once whenever the worker was idle fell back to ~0.30 s (it
   * catches up after every read). What is gathered goes within GATHER_MS even when no more
   * comes, so a slow upload holds no staging buffer between its reads.
   */
  private staged: Uint8Array | undefined;
  private stagedBytes = 0;
  private gatherTimer: NodeJS.Timeout | undefined;

  constructor(private readonly maxPendingBytes = 2 * 1024 * 1024) {
    super();
  }

  /** Queues a chunk; calls `ready` at once, or later when the worker has caught up. */
  update(chunk: Buffer, ready: () => void): void {
    if (this.failure) return ready();
    for (let at = 0; at < chunk.length; ) {
      this.staged ??= bufferFor(MESSAGE_BYTES);
      const n = Math.min(chunk.length - at, MESSAGE_BYTES - this.stagedBytes);
      this.staged.set(chunk.subarray(at, at + n), this.stagedBytes);
      this.stagedBytes += n;
      at += n;
      if (this.stagedBytes === MESSAGE_BYTES) this.post();
    }
    if (this.stagedBytes > 0 && !this.gatherTimer) {
      this.gatherTimer = setTimeout(() => this.post(), GATHER_MS);
      this.gatherTimer.unref();
    }
    if (this.pending > this.maxPendingBytes) this.waiting = ready;
    else ready();
  }

  override digest(): Promise<string> {
    if (!this.failure) this.post();
    return super.digest();
  }

  override abort(): void {
    clearTimeout(this.gatherTimer);
    this.staged = undefined;
    super.abort();
  }

  private post(): void {
    clearTimeout(this.gatherTimer);
    this.gatherTimer = undefined;
    if (!this.staged || this.stagedBytes === 0 || this.failure) return;
    const copy = this.staged.subarray(0, this.stagedBytes);
    this.staged = undefined;
    this.stagedBytes = 0;
    this.pending += copy.byteLength;
    postToWorker({ type: 'chunk', id: this.id, data: copy }, [copy.buffer as ArrayBuffer]);
  }

  protected override acked(copy: Uint8Array): void {
    giveBack(copy);
    this.pending -= copy.byteLength;
    if (this.waiting && this.pending <= this.maxPendingBytes / 2) this.resume();
  }

  protected override fail(err: Error): void {
    super.fail(err);
    this.resume(); // the body's end then fails with the worker's error (digest rejects)
  }

  private resume(): void {
    const resume = this.waiting;
    this.waiting = undefined;
    resume?.();
  }
}
