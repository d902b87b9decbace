import { WorkerHashJob, onWorkerIdle, postToWorker } from './hash-worker.js';

/**
 * Part-sized buffers in shared memory, which the hash worker reads where they lie. They are
 * pooled by size and reused while uploads run: the worker keeps shared memory it has seen
 * alive until it stops (hash-worker.ts), so new buffers per upload would pile up there. Once
 * the worker goes idle the pool is emptied, and memory falls back with it.
 */
const pool = new Map<number, Buffer[]>();
onWorkerIdle(() => pool.clear());

/** A buffer of `bytes` in shared memory, reused from the pool when one is free. */
export function takeSharedBuffer(bytes: number): Buffer {
  return pool.get(bytes)?.pop() ?? Buffer.from(new SharedArrayBuffer(bytes));
}

/** Hands a buffer from takeSharedBuffer back once nothing reads or writes it any more. */
export function returnSharedBuffer(buffer: Buffer): void {
  const size = buffer.buffer.byteLength;
  if (size === 0 || buffer.byteOffset !== 0 || buffer.length !== size || !(buffer.buffer instanceof SharedArrayBuffer)) return;
  const free = pool.get(size);
  if (free) free.push(buffer);
  else pool.set(size, [buffer]);
}

/**
 * The SHA-256 of a body sent as parts held in shared memory (S3 multipart): each part's own
 * digest (which signs the part's request) and the whole body's, both computed in place on the
 * hash worker, so this thread neither hashes nor copies. Parts must be given in body order,
 * and their bytes left alone until their digest has come back.
 */
export class SharedPartsSha256 extends WorkerHashJob {
  private readonly parts: { resolve(hex: string): void; reject(err: Error): void }[] = [];

  /** Adds `part` to the body's hash; resolves to the part's own SHA-256 (hex). */
  part(part: Buffer): Promise<string> {
    if (!(part.buffer instanceof SharedArrayBuffer)) throw new TypeError('SharedPartsSha256 hashes parts in shared memory only (takeSharedBuffer)');
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.parts.push({ resolve, reject });
      postToWorker({ type: 'part', id: this.id, memory: part.buffer, offset: part.byteOffset, length: part.length });
    });
  }

  /** Stops hashing this body; parts still waiting for their digest fail (so nothing waits forever). */
  override abort(): void {
    super.abort();
    this.fail(new Error('hashing stopped: the upload was abandoned'));
  }

  protected override partHashed(hex: string): void {
    this.parts.shift()?.resolve(hex);
  }

  protected override fail(err: Error): void {
    super.fail(err);
    for (const waiter of this.parts.splice(0)) waiter.reject(this.failure!);
  }
}
