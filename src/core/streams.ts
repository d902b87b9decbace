import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { StorageError } from './errors.js';

/**
 * A pass-through that counts bytes and hashes them (SHA-256) as they stream by, and stops
 * the stream with TooLarge the moment it passes `maxBytes`, so no backend ever has to
 * buffer a body to learn its size or checksum.
 */
export class MeasuringStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;
  private digest: string | undefined;

  constructor(private readonly maxBytes: number = Number.POSITIVE_INFINITY) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.maxBytes) {
      done(new StorageError('TooLarge', `body is larger than the limit of ${this.maxBytes} bytes`, { details: { limit: this.maxBytes } }));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  get bytes(): number {
    return this.count;
  }

  /** Hex SHA-256 of everything that passed; call after the stream ended. */
  sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}

/** Checks what a MeasuringStream saw against what the caller promised. */
export function checkMeasured(measured: MeasuringStream, expect: { contentLength?: number; sha256?: string }): void {
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
