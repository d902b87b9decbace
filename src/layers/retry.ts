import { type Readable, Transform, type TransformCallback, pipeline } from 'node:stream';
import {
  ExponentialBackoff,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  TaskCancelledError,
  TimeoutStrategy,
  handleWhen,
  retry,
  timeout,
} from 'cockatiel';
import type { Backend } from '../core/backend.js';
import { StorageError, isStorageError } from '../core/errors.js';
import type { ObjectInfo, PutOptions } from '../core/types.js';
import { forwardAll } from './forward.js';
import type { BackendOperation, Layer } from './layer.js';
import { reopen } from './replayable.js';

/**
 * Retries on transient failures only (StorageError.temporary: BackendUnavailable — timeouts,
 * resets, 5xx — and RateLimited), with exponential backoff and decorrelated jitter (cockatiel),
 * bounded in attempts and in total time. A per-attempt timeout sits inside the retry, so a hung
 * attempt is abandoned and retried instead of eating the whole budget (OpenDAL's warning).
 *
 * Only steps that cannot double an effect are retried: get, head, list, delete, deleteMany,
 * copy, presign, health. Not `move` (a copy then a delete: retried after the delete it would
 * fail), nor anything create-only (`ifNoneMatch: '*'`: a retry after a lost answer would see its
 * own write as a conflict). `put` is retried only when its body is replayable (see
 * replayable.ts): a one-shot stream that failed part-way cannot be sent again, so it gets one
 * attempt — with a stall watchdog — and its failure goes up to the fallback or the caller.
 */
export interface RetryOptions {
  /** Tries in all, the first included (1 = never retry). */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** No attempt starts later than this after the first one. */
  maxTotalMs: number;
  /** Per attempt: the whole call (metadata operations), until the body starts (get), the longest stall (put). */
  attemptTimeoutMs: number;
  /** Told of every retry, for metrics. */
  onRetry?: (operation: BackendOperation, attempt: number, error: StorageError) => void;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, initialDelayMs: 50, maxDelayMs: 2000, maxTotalMs: 15_000, attemptTimeoutMs: 10_000 };

const retryable = (err: unknown) => isStorageError(err) && err.temporary;

/** Caps every backoff delay by the time left, so the total budget holds. */
class Budgeted<T> implements IBackoffFactory<T> {
  constructor(
    private readonly inner: IBackoffFactory<T>,
    private readonly deadline: number,
  ) {}

  next(context: T): IBackoff<T> {
    return this.cap(this.inner.next(context));
  }

  private cap(backoff: IBackoff<T>): IBackoff<T> {
    return { duration: Math.max(0, Math.min(backoff.duration, this.deadline - Date.now())), next: (c) => this.cap(backoff.next(c)) };
  }
}

/** Carries the last real failure out of the retry once the time budget is spent. */
class OutOfTime extends Error {
  constructor(readonly last: unknown) {
    super('retry budget spent');
  }
}

const timedOut = (operation: string, ms: number) =>
  new StorageError('BackendUnavailable', `the backend did not answer ${operation} within ${ms} ms`, { temporary: true, details: { timeout: ms } });

/**
 * Passes a put's body through, noting when the backend last pulled a chunk: once it has pulled
 * nothing for `ms`, `onStall` runs. The body is piped in only when the backend first reads, so
 * a backend that fails before reading leaves it untouched (the fallback layer can still divert
 * it), and little is buffered, so a chunk moves only when the backend reads. One timer per
 * put, checked against the last pull — not re-armed per chunk, which cost a timer and an
 * async-iterator step per 64 KiB of every upload.
 */
class PullWatch extends Transform {
  private lastPull = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private body: Readable | undefined;

  constructor(body: Readable, ms: number, onStall: () => void) {
    super();
    this.body = body;
    const check = () => {
      const idle = Date.now() - this.lastPull;
      if (idle >= ms) onStall();
      else this.timer = setTimeout(check, ms - idle);
    };
    this.timer = setTimeout(check, ms);
  }

  override _read(size: number): void {
    if (this.body) {
      // Failures travel both ways: a failing body fails the watch, a backend that gives up stops the body.
      pipeline(this.body, this, () => undefined);
      this.body = undefined;
    }
    super._read(size);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.lastPull = Date.now();
    done(null, chunk);
  }

  /**
   * The attempt is over: no more timer, and a body not piped in yet never will be, even if the
   * backend set this stream flowing before it failed — the body stays whole for the fallback.
   */
  stop(): void {
    clearTimeout(this.timer);
    this.body = undefined;
  }
}

export function retryLayer(opts: RetryOptions = DEFAULT_RETRY): Layer {
  const attemptTimeout = timeout(opts.attemptTimeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });

  /** Runs `attempt` until it succeeds, fails permanently, or attempts or time run out. */
  async function withRetries<T>(operation: BackendOperation, attempt: (n: number) => Promise<T>, attempts = opts.attempts): Promise<T> {
    const deadline = Date.now() + opts.maxTotalMs;
    const backoff = new Budgeted<IRetryBackoffContext<unknown>>(new ExponentialBackoff({ initialDelay: opts.initialDelayMs, maxDelay: opts.maxDelayMs }), deadline);
    const policy = retry(handleWhen(retryable), { maxAttempts: Math.max(0, attempts - 1), backoff });
    let last: unknown;
    try {
      return await policy.execute(async ({ attempt: n }) => {
        if (n > 0) {
          if (Date.now() >= deadline) throw new OutOfTime(last);
          opts.onRetry?.(operation, n, last as StorageError);
        }
        try {
          return await attempt(n);
        } catch (err) {
          last = err;
          throw err;
        }
      });
    } catch (err) {
      throw err instanceof OutOfTime ? err.last : err;
    }
  }

  /** One attempt of a call that has no body: bounded by the per-attempt timeout. */
  async function bounded<T>(operation: BackendOperation, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await attemptTimeout.execute(({ signal }) => call(signal));
    } catch (err) {
      if (err instanceof TaskCancelledError) throw timedOut(operation, opts.attemptTimeoutMs);
      throw err;
    }
  }

  /** One attempt of a put: aborted when the backend stops taking the body (or answering) for too long. */
  async function putOnce(inner: Backend, key: string, body: Readable, putOpts: PutOptions | undefined): Promise<ObjectInfo> {
    const stall = new AbortController();
    let fired: (err: StorageError) => void = () => undefined;
    const stalled = new Promise<never>((_resolve, reject) => {
      fired = reject;
    });
    stalled.catch(() => undefined);
    const tap = new PullWatch(body, opts.attemptTimeoutMs, () => {
      stall.abort();
      fired(timedOut('put', opts.attemptTimeoutMs));
    });
    const signal = putOpts?.signal ? AbortSignal.any([putOpts.signal, stall.signal]) : stall.signal;
    try {
      return await Promise.race([inner.put(key, tap, { ...putOpts, signal }), stalled]);
    } catch (err) {
      if (stall.signal.aborted && !putOpts?.signal?.aborted) throw timedOut('put', opts.attemptTimeoutMs);
      throw err;
    } finally {
      tap.stop();
    }
  }

  return (inner: Backend): Backend => {
    const base = forwardAll(inner, (operation, _key, call) => withRetries(operation, () => bounded(operation, call)));
    const once = <T>(operation: BackendOperation, call: () => Promise<T>) => bounded(operation, call);
    return {
      ...base,
      put(key, body, putOpts) {
        const replay = reopen(body) !== undefined && putOpts?.ifNoneMatch === undefined;
        if (!replay) return putOnce(inner, key, body, putOpts);
        return withRetries('put', (n) => putOnce(inner, key, n === 0 ? body : reopen(body)!, putOpts));
      },
      get: (key, getOpts) =>
        withRetries('get', () =>
          bounded('get', async (signal) => {
            const result = await inner.get(key, getOpts);
            // Answered after the attempt was abandoned: nobody will read this body.
            if (signal.aborted) result.body.destroy();
            return result;
          }),
        ),
      copy: (from, to, copyOpts) =>
        copyOpts?.ifNoneMatch ? once('copy', () => inner.copy(from, to, copyOpts)) : withRetries('copy', () => bounded('copy', () => inner.copy(from, to, copyOpts))),
      move: (from, to, moveOpts) => once('move', () => inner.move(from, to, moveOpts)),
    };
  };
}
