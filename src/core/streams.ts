import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { StorageError } from './errors.js';
import { OffThreadSha256 } from './sha256-worker.js';

/**
 * A pass-through that counts bytes and hashes them (SHA-256) as they stream by, and stops
 * the stream with TooLarge the moment it passes `maxBytes`, so no backend ever has to
 * buffer a body to learn its size or checksum.
 */
export interface MeasuringOptions {
  /** Hash on the shared worker thread (for large bodies: the I/O then overlaps the hashing). */
  offThread?: boolean;
  /** false: count only; the caller hashes the bytes where it holds them (S3 parts). */
  hash?: boolean;
}

/** Bodies at least this large (or of unknown length) are hashed off the main thread. */
export const OFF_THREAD_HASH_BYTES = 1024 * 1024;

export function shouldHashOffThread(contentLength: number | undefined): boolean {
  return contentLength === undefined || contentLength >= OFF_THREAD_HASH_BYTES;
}

export class MeasuringStream extends Transform {
  private readonly hash: Hash | undefined;
  private readonly offThread: OffThreadSha256 | undefined;
  private count = 0;
  private digest: string | undefined;

  constructor(
    private readonly maxBytes: number = Number.POSITIVE_INFINITY,
    opts: MeasuringOptions = {},
  ) {
    super({ highWaterMark: 256 * 1024 });
    if (opts.hash === false) return;
    if (opts.offThread) this.offThread = new OffThreadSha256();
    else this.hash = createHash('sha256');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.maxBytes) {
      done(tooLarge(this.maxBytes));
      return;
    }
    if (this.offThread) {
      this.offThread.update(chunk, () => done(null, chunk));
      return;
    }
    this.hash?.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (!this.offThread) return done();
    this.offThread.digest().then((hex) => {
      this.digest = hex;
      done();
    }, done);
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    if (this.offThread && this.digest === undefined) this.offThread.abort();
    done(err);
  }

  get bytes(): number {
    return this.count;
  }

  /** Hex SHA-256 of everything that passed; call after the stream ended. */
  sha256(): string {
    if (!this.hash && this.digest === undefined) throw new Error('MeasuringStream: sha256() of a stream made with hash: false, or before its end');
    this.digest ??= this.hash!.digest('hex');
    return this.digest;
  }
}

/** The error of a body that passed its limit, wherever it is counted. */
export function tooLarge(limit: number): StorageError {
  return new StorageError('TooLarge', `body is larger than the limit of ${limit} bytes`, { details: { limit } });
}

/**
 * A body whose bytes are all in memory already (a small local read). It streams like any
 * other; a backend that would gather a small body into one buffer anyway takes the bytes as
 * they are (`takeWholeBytes`) and skips the stream machinery: pipeline, abort controller,
 * transform and async iteration cost ~0.14 ms of CPU per object, a tenth of what a 64 KiB
 * migration to S3 spent per object.
 */
export class BytesBody extends Readable {
  constructor(readonly bytes: Buffer) {
    super();
  }

  override _read(): void {
    if (this.bytes.length > 0) this.push(this.bytes);
    this.push(null);
  }
}

/** The whole of a BytesBody nobody has read from yet, taken (the stream is spent); else undefined. */
export function takeWholeBytes(body: Readable): Buffer | undefined {
  if (!(body instanceof BytesBody) || body.readableDidRead || body.destroyed) return undefined;
  body.destroy();
  return body.bytes;
}

/** Checks what a MeasuringStream saw against what the caller promised. */
export function checkMeasured(measured: { readonly bytes: number; sha256(): string }, expect: { contentLength?: number; sha256?: string }): void {
  if (expect.contentLength !== undefined && measured.bytes !== expect.contentLength) {
    throw new StorageError('InvalidArgument', `body has ${measured.bytes} bytes but ${expect.contentLength} were declared`);
  }
  if (expect.sha256 !== undefined && measured.sha256() !== expect.sha256.toLowerCase()) {
    throw new StorageError('ChecksumMismatch', 'body does not match the declared SHA-256');
  }
}

/** ETag derived from a hex SHA-256 (quoted, as HTTP wants it). */
export function etagFromSha256(sha256: string): string {
  return `"${sha256}"`;
}
