import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError, isStorageError } from '../../core/errors.js';
import { MeasuringStream } from '../../core/streams.js';

/**
 * The caller's body, counted as it streams (never buffered whole). Failures of the body
 * itself — cut off, aborted, over the limit — come out as StorageErrors that say so. It is
 * hashed where put.ts holds its bytes: a small body in one buffer, a large one part by part.
 */
export class MeasuredBody {
  private readonly measuring: MeasuringStream;
  private failure: unknown;

  private readonly key: string;
  private readonly contentLength: number | undefined;

  constructor(body: Readable, opts: { maxBytes: number; contentLength: number | undefined; key: string; signal: AbortSignal | undefined }) {
    this.key = opts.key;
    this.contentLength = opts.contentLength;
    this.measuring = new MeasuringStream(opts.maxBytes, { hash: false });
    pipeline(body, this.measuring, opts.signal ? { signal: opts.signal } : {}).catch((err: unknown) => {
      this.failure ??= err;
    });
  }

  /** The body's chunks, in order; throws what went wrong with the body. */
  async *chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of this.measuring as AsyncIterable<Buffer>) {
        // Stop as soon as the body runs past its declared length, not at its end.
        if (this.contentLength !== undefined && this.measuring.bytes > this.contentLength) {
          throw new StorageError('InvalidArgument', `body of ${this.key} is longer than the ${this.contentLength} bytes declared`);
        }
        yield chunk;
      }
    } catch (err) {
      throw this.describe(this.failure ?? err);
    }
    if (this.failure) throw this.describe(this.failure);
  }

  /** Stops reading (the upload failed elsewhere): the source is destroyed too. */
  discard(): void {
    if (!this.measuring.destroyed) this.measuring.destroy();
  }

  get bytes(): number {
    return this.measuring.bytes;
  }

  private describe(err: unknown): StorageError {
    if (isStorageError(err)) return err;
    if (err instanceof Error && err.name === 'AbortError') return new StorageError('InvalidArgument', `upload of ${this.key} was aborted`);
    return new StorageError('InvalidArgument', `the body of ${this.key} failed before it ended`, { cause: err });
  }
}
