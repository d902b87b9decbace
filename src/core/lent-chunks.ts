/**
 * Chunks a body lends to its reader. A reader that is done with a chunk hands it back
 * (`releaseChunk`) and the body reads later bytes into it instead of into fresh memory:
 * fresh memory is cold, and on this project's VM a cached 100 MiB file read into new 1 MiB
 * buffers took ~25 ms where the same reads into reused buffers took ~11 ms (`cat` ~14 ms).
 * Releasing is optional: a chunk never handed back is a plain buffer, collected as usual.
 * A released chunk must not be touched again — its bytes will be overwritten.
 */
const lent = new WeakMap<Buffer, ChunkPool>();

export class ChunkPool {
  private readonly free: Buffer[] = [];
  private closed = false;

  /** Buffers of `size` bytes; at most `keep` released ones are held for reuse. */
  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  /** A buffer of `size` bytes to read into: a released one when there is one. */
  take(): Buffer {
    const buffer = (!this.closed && this.free.pop()) || Buffer.allocUnsafeSlow(this.size);
    lent.set(buffer, this);
    return buffer;
  }

  /** The body is over: what is released later is left to the garbage collector. */
  close(): void {
    this.closed = true;
    this.free.length = 0;
  }

  /** @internal releaseChunk's other half. */
  reuse(buffer: Buffer): void {
    if (!this.closed && this.free.length < this.keep) this.free.push(buffer);
  }
}

/**
 * Hands back a chunk read from a body once nothing will read or keep it any more. A no-op for
 * any other buffer (chunks of other bodies, copies, slices), and for a chunk already released.
 */
export function releaseChunk(chunk: Buffer): void {
  const pool = lent.get(chunk);
  if (!pool) return;
  lent.delete(chunk);
  pool.reuse(chunk);
}

/** Whether `chunk` is lent by a body and may be released. */
export function isLentChunk(chunk: unknown): boolean {
  return Buffer.isBuffer(chunk) && lent.has(chunk);
}
