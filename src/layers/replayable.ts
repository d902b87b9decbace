import { Readable } from 'node:stream';
import type { Backend } from '../core/backend.js';
import { StorageError, toStorageError } from '../core/errors.js';
import { forwardAll } from './forward.js';
import type { Layer } from './layer.js';

/**
 * Replayable upload bodies. A stream can be read once, so a put that failed part-way cannot be
 * sent again — not by the retry layer, not to the fallback. Bodies up to a bound are therefore
 * read into memory once, at the top of the stack, and handed down as a stream that carries a
 * way to open it again. Larger bodies stream through untouched (memory stays flat): they get
 * one attempt, and fall back only when the primary refused them before reading a byte.
 */
const REOPEN = Symbol('bucketgate.reopen');
const BYTES = Symbol('bucketgate.bytes');

type Tagged = Readable & { [REOPEN]?: () => Readable; [BYTES]?: Buffer };

/** A stream of `data` that can be opened again, as often as needed. */
export function replayable(data: Buffer): Readable {
  const open = (): Readable => {
    const stream = Readable.from(data.length ? [data] : [], { objectMode: false }) as Tagged;
    stream[REOPEN] = open;
    stream[BYTES] = data;
    return stream;
  };
  return open();
}

/** A fresh copy of a replayable body, or undefined for a one-shot stream. */
export function reopen(body: Readable): Readable | undefined {
  return (body as Tagged)[REOPEN]?.();
}

/** The bytes of a replayable body, when it has them. */
export function bytesOf(body: Readable): Buffer | undefined {
  return (body as Tagged)[BYTES];
}

interface Prefix {
  chunks: Buffer[];
  bytes: number;
  ended: boolean;
}

/** Reads `body` until it ends or passes `limit` bytes, then leaves it paused. */
function readPrefix(body: Readable, limit: number): Promise<Prefix> {
  return new Promise((resolve, reject) => {
    const prefix: Prefix = { chunks: [], bytes: 0, ended: false };
    // A body that failed (or ended) before anyone listened fires no more events: say so now.
    if (body.errored) return reject(toStorageError(body.errored, 'InvalidArgument', 'the upload body failed before it ended'));
    if (body.destroyed) return reject(new StorageError('InvalidArgument', 'the upload body was closed before it ended'));
    if (body.readableEnded) return resolve({ ...prefix, ended: true });
    const cleanup = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      prefix.chunks.push(buffer);
      prefix.bytes += buffer.length;
      if (prefix.bytes > limit) {
        body.pause();
        cleanup();
        resolve(prefix);
      }
    };
    const onEnd = () => {
      cleanup();
      prefix.ended = true;
      resolve(prefix);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(toStorageError(err, 'InvalidArgument', 'the upload body failed before it ended'));
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  });
}

/** What was read, followed by the rest of the stream: the same bytes, still one-shot. */
function rejoin(prefix: Prefix, body: Readable): Readable {
  async function* all() {
    yield* prefix.chunks;
    for await (const chunk of body as AsyncIterable<Buffer>) yield chunk;
  }
  return Readable.from(all(), { objectMode: false });
}

export interface BufferOptions {
  /** Bodies up to this many bytes are buffered and can be replayed. 0 turns buffering off. */
  maxBytes: number;
  /** Bytes all buffered bodies together may hold; past it, bodies stream one-shot. */
  budgetBytes: number;
}

/** Turns small upload bodies into replayable ones; everything else passes through. */
export function bufferBodiesLayer(opts: BufferOptions): Layer {
  let inUse = 0;
  return (inner: Backend): Backend => ({
    ...forwardAll(inner, (_op, _key, call) => call()),
    async put(key, body, putOpts = {}) {
      const declared = putOpts.contentLength;
      const limit = Math.min(opts.maxBytes, putOpts.maxBytes ?? Number.POSITIVE_INFINITY);
      // What this body may hold in memory: its declared length, else the whole bound.
      const reserve = Math.min(limit, declared ?? limit);
      if (reopen(body) || opts.maxBytes <= 0 || (declared !== undefined && declared > limit) || inUse + reserve > opts.budgetBytes) {
        return inner.put(key, body, putOpts);
      }
      inUse += reserve;
      try {
        const prefix = await readPrefix(body, declared === undefined ? limit : Math.min(limit, declared));
        if (!prefix.ended) return await inner.put(key, rejoin(prefix, body), putOpts);
        const data = prefix.chunks.length === 1 ? prefix.chunks[0]! : Buffer.concat(prefix.chunks, prefix.bytes);
        // The length is known now: declaring it lets every layer below notice a cut body.
        return await inner.put(key, replayable(data), { ...putOpts, contentLength: declared ?? data.length });
      } finally {
        inUse -= reserve;
      }
    },
  });
}
