import { returnSharedBuffer, takeSharedBuffer } from '../../core/shared-parts.js';

/**
 * Assembles a streamed body into multipart parts, copying each chunk once into a part-sized
 * buffer. Buffers go back to a process-wide pool when their part has been sent and are filled
 * again, so an upload holds at most (parts in flight + 1) buffers whatever its size, and no
 * part is ever both a list of chunks and their concatenation at once. The buffers are shared
 * memory, so the hash worker reads a part where it lies (SharedPartsSha256).
 */
export class PartBuffers {
  private current: Buffer | undefined;
  private filled = 0;

  constructor(private readonly partSize: number) {}

  /** Copies as much of `chunk` from `offset` as fits in the current part; returns the bytes taken. */
  fill(chunk: Buffer, offset: number): number {
    this.current ??= takeSharedBuffer(this.partSize);
    const taken = Math.min(chunk.length - offset, this.partSize - this.filled);
    chunk.copy(this.current, this.filled, offset, offset + taken);
    this.filled += taken;
    return taken;
  }

  get full(): boolean {
    return this.filled === this.partSize;
  }

  get pending(): number {
    return this.filled;
  }

  /** The upload failed: the part being filled goes back to the pool (nothing else has seen it). */
  discard(): void {
    if (this.current) returnSharedBuffer(this.current);
    this.current = undefined;
    this.filled = 0;
  }

  /** The filled part, and how to hand its buffer back once the part has been sent. */
  take(): { body: Buffer; release: () => void } {
    const buffer = this.current ?? takeSharedBuffer(0);
    const body = buffer.subarray(0, this.filled);
    this.current = undefined;
    this.filled = 0;
    return { body, release: () => returnSharedBuffer(buffer) };
  }
}
