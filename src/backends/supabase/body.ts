import type { Readable, TransformCallback } from 'node:stream';
import { StorageError } from '../../core/errors.js';
import { MeasuringStream, checkMeasured } from '../../core/streams.js';

/**
 * The upload body as the backend reads it: measured (size, SHA-256, maxBytes) on the way, and
 * checked against the declared length and checksum *before* it reports its end, so a body that
 * fails any check never completes an upload on the server.
 */
export class VerifiedBody extends MeasuringStream {
  constructor(
    maxBytes: number | undefined,
    private readonly expect: { contentLength?: number; sha256?: string },
  ) {
    super(maxBytes);
  }

  override _flush(done: TransformCallback): void {
    try {
      checkMeasured(this, this.expect);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

/** Pipes `body` into a VerifiedBody; the caller's failures and aborts become the stream's error. */
export function verify(body: Readable, opts: { maxBytes?: number; contentLength?: number; sha256?: string; signal?: AbortSignal }): VerifiedBody {
  const verified = new VerifiedBody(opts.maxBytes, { contentLength: opts.contentLength, sha256: opts.sha256 });
  const fail = (err: unknown) => verified.destroy(err instanceof StorageError ? err : new StorageError('InvalidArgument', `the body failed: ${(err as Error)?.message ?? err}`, { cause: err }));
  body.on('error', fail);
  if (opts.signal) {
    if (opts.signal.aborted) fail(new StorageError('InvalidArgument', 'the upload was aborted'));
    else opts.signal.addEventListener('abort', () => fail(new StorageError('InvalidArgument', 'the upload was aborted')), { once: true });
  }
  verified.on('close', () => {
    if (!verified.writableFinished) body.destroy();
  });
  body.pipe(verified);
  return verified;
}

/** Reads until more than `limit` bytes arrived or the body ended. */
export async function readUpTo(source: AsyncIterator<Buffer>, limit: number): Promise<{ buffers: Buffer[]; bytes: number; done: boolean }> {
  const buffers: Buffer[] = [];
  let bytes = 0;
  while (bytes <= limit) {
    const next = await source.next();
    if (next.done) return { buffers, bytes, done: true };
    buffers.push(next.value);
    bytes += next.value.length;
  }
  return { buffers, bytes, done: false };
}

/**
 * Cuts `first` + the rest of `source` into chunks of exactly `size` bytes (the last may be
 * shorter), reading one byte ahead so the last chunk is known as such when it is yielded.
 */
export async function* chunksOf(first: Buffer[], source: AsyncIterator<Buffer>, size: number): AsyncGenerator<{ data: Buffer; last: boolean }> {
  let pending: Buffer[] = [...first];
  let bytes = first.reduce((n, b) => n + b.length, 0);
  let ended = false;
  for (;;) {
    while (!ended && bytes <= size) {
      const next = await source.next();
      if (next.done) ended = true;
      else {
        pending.push(next.value);
        bytes += next.value.length;
      }
    }
    const joined = Buffer.concat(pending);
    if (bytes <= size) {
      yield { data: joined, last: true };
      return;
    }
    yield { data: joined.subarray(0, size), last: false };
    pending = [joined.subarray(size)];
    bytes -= size;
  }
}
