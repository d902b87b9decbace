import type { Stats } from 'node:fs';
import { type FileHandle, link, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError, isStorageError } from '../../core/errors.js';
import type { ParsedKey } from '../../core/keys.js';
import { MeasuringStream, checkMeasured, shouldHashOffThread } from '../../core/streams.js';
import { CHUNK, type LocalContext } from './context.js';
import { createTempIn, pruneEmptyDirs, syncDir } from './dirs.js';
import { SealStream } from './encryption.js';
import { confinedJoin } from './paths.js';
import { fromFsError, isFsError } from './fs-errors.js';
import { type Sidecar, dataPath, prepareSidecar } from './metadata.js';

/** A body fully written to a temp file beside its target, not yet visible. */
export interface StagedFile {
  path: string;
  stat: Stats;
  size: number;
  sha256: string;
  /**
   * Settles once the temp is fsynced and closed; commitStaged waits for it, meanwhile writing
   * the sidecar. On failure the temp is the caller's to remove. Absent: already durable.
   */
  durable?: Promise<void>;
}

export interface StageOptions {
  maxBytes?: number;
  contentLength?: number;
  sha256?: string;
  signal?: AbortSignal;
}

/**
 * Streams `body` into a fresh temp file in the target's folder, measuring size and SHA-256 on
 * the way. Any failure — the body erroring, TooLarge, a mismatch, an abort, a full disk —
 * removes the temp, so nothing of the attempt remains; a failure of the final fsync comes
 * through `durable`, and commitStaged removes the temp then.
 */
export async function stageBody(ctx: LocalContext, parsed: ParsedKey, body: Readable, opts: StageOptions): Promise<StagedFile> {
  const { fh, path } = await createTempIn(dirname(dataPath(ctx, parsed))).catch((err: unknown) => {
    throw placeFailure(err, parsed.key);
  });
  let diskError: unknown;
  const flusher = ctx.fsync ? new WriteBehind(fh) : undefined;
  try {
    const measure = new MeasuringStream(opts.maxBytes, { offThread: shouldHashOffThread(opts.contentLength) });
    // Only failures of our own writes are the disk's; errors of the body arrive through `source`.
    const write = (buffers: Buffer[]) =>
      writeAll(fh, buffers).catch((err: unknown) => {
        diskError = err;
        throw err;
      });
    const sink = new BatchedFileSink(write, flusher);
    const options = opts.signal ? { signal: opts.signal } : {};
    // Measured as plaintext (limits and checksums are the content's), then sealed when encrypting.
    if (ctx.cipher) await pipeline(body, measure, new SealStream(ctx.cipher), sink, options);
    else await pipeline(body, measure, sink, options);
    checkMeasured(measure, opts);
    const disk = <T>(op: Promise<T>) =>
      op.catch((err: unknown) => {
        diskError = err;
        throw err;
      });
    // Taken before the fsync, which changes nothing stat reports; the sidecar names this stat.
    const stat = await disk(fh.stat());
    // The final fsync does not wait for a write-behind flush still running: it would wait for
    // those pages anyway, and the two journal commits can merge.
    const durable = (async () => {
      await disk(Promise.all([flusher?.settle(), ctx.fsync ? fh.sync() : undefined]));
      await disk(fh.close());
    })().catch(async (err: unknown) => {
      await fh.close().catch(() => undefined);
      throw writeFailure(err, diskError, parsed.key);
    });
    durable.catch(() => undefined); // awaited by commitStaged
    return { path, stat, size: measure.bytes, sha256: measure.sha256(), durable };
  } catch (err) {
    await flusher?.settle().catch(() => undefined);
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    await pruneEmptyDirs(dirname(path), confinedJoin(ctx.root, parsed.segment)).catch(() => undefined);
    throw writeFailure(err, diskError, parsed.key);
  }
}

/**
 * Flushes a large file to disk while it is still being written: a background fdatasync every
 * few MiB, so the final fsync finds little left to do and the disk works while bytes still
 * arrive, instead of all of it waiting until the end.
 */
class WriteBehind {
  private static readonly EVERY = 8 * CHUNK;
  /** Flushes running at once across the process: libuv has 4 threads, and slow disks must not take them all. */
  private static readonly MAX_RUNNING = 2;
  private static running = 0;
  private unflushed = 0;
  private running: Promise<void> | undefined;
  private failure: unknown;

  constructor(private readonly fh: FileHandle) {}

  written(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < WriteBehind.EVERY || this.running || WriteBehind.running >= WriteBehind.MAX_RUNNING) return;
    this.unflushed = 0;
    WriteBehind.running++;
    this.running = this.fh
      .datasync()
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        WriteBehind.running--;
        this.running = undefined;
      });
  }

  /** Waits for a flush in progress; a failed one fails the write (the final fsync may not see it). */
  async settle(): Promise<void> {
    await this.running;
    if (this.failure !== undefined) throw this.failure;
  }
}

const SINK_BUFFER = 64 * 1024;

/**
 * The temp file as the end of the body's pipeline: chunks are gathered into ~1 MiB writev calls
 * (few syscalls, `cp`-like throughput). A Writable, not a `for await` over the stream before
 * it: the async iterator concatenated whatever was buffered into a new Buffer on every read,
 * a copy per 64 KiB of every upload.
 */
class BatchedFileSink extends Writable {
  private batch: Buffer[] = [];
  private batched = 0;

  constructor(
    private readonly writeOut: (buffers: Buffer[]) => Promise<void>,
    private readonly flusher: WriteBehind | undefined,
  ) {
    // Little beyond the batch: a chunk or so arrives while a batch is written. More added
    // memory per upload (8 concurrent 100 MiB uploads peaked ~15 MiB higher with 1 MiB here)
    // and no measurable speed.
    super({ highWaterMark: SINK_BUFFER });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.batch.push(chunk);
    this.batched += chunk.length;
    if (this.batched < CHUNK) return done();
    this.writeBatch().then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.writeBatch().then(() => done(), done);
  }

  private async writeBatch(): Promise<void> {
    if (this.batched === 0) return;
    const buffers = this.batch;
    const bytes = this.batched;
    this.batch = [];
    this.batched = 0;
    await this.writeOut(buffers);
    this.flusher?.written(bytes);
  }
}

/** writev may write less than asked (rarely, for regular files): continue from where it stopped. */
async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    let { bytesWritten } = await fh.writev(pending);
    const rest: Buffer[] = [];
    for (const buffer of pending) {
      if (bytesWritten >= buffer.length) bytesWritten -= buffer.length;
      else {
        rest.push(buffer.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}

/** Says whose fault a failed write was: the disk's, the limits', or the body's. */
function writeFailure(err: unknown, diskError: unknown, key: string): StorageError {
  if (isStorageError(err)) return err;
  if (diskError !== undefined) return fromFsError(diskError, key, 'write');
  if (err instanceof Error && err.name === 'AbortError') return new StorageError('InvalidArgument', `upload of ${key} was aborted`, { cause: err });
  if (isFsError(err, 'ENOSPC', 'EDQUOT', 'EIO', 'EROFS')) return fromFsError(err, key, 'write');
  return new StorageError('InvalidArgument', `the body of ${key} failed before it ended`, { cause: err });
}

/**
 * Makes a staged file the object at `parsed`, with its sidecar. The sidecar temp is written
 * first, outside the lock; the two renames run under the key's lock so concurrent writers
 * commit one after the other and the data and sidecar left behind belong to the same writer.
 * `createOnly` links instead of renaming: link fails with EEXIST if the key exists, atomically.
 */
export async function commitStaged(ctx: LocalContext, parsed: ParsedKey, staged: Pick<StagedFile, 'path' | 'durable'>, sidecar: Sidecar, createOnly: boolean): Promise<void> {
  const final = dataPath(ctx, parsed);
  // The sidecar's temp is written while the data's fsync runs; both must succeed.
  const [synced, sidecarTemp] = await Promise.allSettled([staged.durable, prepareSidecar(ctx, parsed, sidecar)]);
  if (synced.status === 'rejected' || sidecarTemp.status === 'rejected') {
    if (sidecarTemp.status === 'fulfilled') await sidecarTemp.value.abort();
    await unlink(staged.path).catch(() => undefined);
    await pruneEmptyDirs(dirname(staged.path), confinedJoin(ctx.root, parsed.segment)).catch(() => undefined);
    if (synced.status === 'rejected') throw synced.reason;
    throw placeFailure((sidecarTemp as PromiseRejectedResult).reason, parsed.key);
  }
  const prepared = sidecarTemp.value;
  try {
    await ctx.lock.with([parsed.key], async () => {
      if (createOnly) {
        await link(staged.path, final);
        await unlink(staged.path);
      } else {
        await rename(staged.path, final);
      }
      if (ctx.fsync) await syncDir(dirname(final));
      await prepared.commit();
    });
  } catch (err) {
    await unlink(staged.path).catch(() => undefined);
    await prepared.abort();
    if (createOnly && isFsError(err, 'EEXIST')) throw new StorageError('AlreadyExists', `${parsed.key} already exists`);
    throw placeFailure(err, parsed.key);
  }
}

export function placeFailure(err: unknown, key: string): StorageError {
  // A file where a folder is needed (or the reverse): S3 allows `a` and `a/b` together, a disk cannot.
  if (isFsError(err, 'ENOTDIR', 'EEXIST', 'EISDIR')) {
    return new StorageError('AlreadyExists', `${key} clashes with an object or folder on its path`, { cause: { code: err.code } });
  }
  return fromFsError(err, key, 'write');
}
