import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { Backend } from '../core/backend.js';
import { StorageError, isStorageError } from '../core/errors.js';
import type { GetResult } from '../core/types.js';
import { forwardAll, sleep } from './forward.js';
import type { BackendOperation, Layer } from './layer.js';

/**
 * A seeded fault-injecting layer (OpenDAL's chaos layer, made reproducible). Every decision is
 * drawn from SHA-256(seed, operation, key, n) where n counts earlier calls with the same
 * operation and key, so a run replays the same faults whatever the interleaving of
 * concurrent calls. Rates are probabilities per call; their sum should stay ≤ 1.
 */
export interface FaultPlan {
  seed: number;
  /** A hard outage: every call fails at once with BackendUnavailable and does nothing. */
  down?: boolean;
  /** Fails before doing anything, as a 500/503 answer would. */
  unavailable?: number;
  /** Does the call, then fails as if the answer was lost: the effect happened, the caller cannot know. */
  ambiguous?: number;
  /** Connection reset: a put fails part-way through its body, other calls before they start. */
  reset?: number;
  /** Disk full part-way through a put (InsufficientStorage); other operations are spared. */
  enospc?: number;
  /** A get whose body stops part-way with BackendUnavailable. */
  truncateGet?: number;
  /** A put whose body reaches the backend cut short (ending cleanly, as a broken proxy would). */
  truncatePut?: number;
  /** Probability of an added delay, and its bounds in ms. */
  latency?: number;
  latencyMs?: [number, number];
  /** Operations faults apply to (default: all but presign). */
  operations?: BackendOperation[];
  /** Crash at the k-th faultable call (1-based): before it, part-way through its body (put), or after it. */
  crash?: { step: number; phase?: 'before' | 'during' | 'after' };
}

export type FaultKind = 'down' | 'unavailable' | 'ambiguous' | 'reset' | 'enospc' | 'truncateGet' | 'truncatePut' | 'latency' | 'crash';

interface Decision {
  fault?: Exclude<FaultKind, 'latency' | 'crash' | 'down'>;
  delayMs: number;
  /** Where in a body a cut happens, as a fraction of it. */
  cutAt: number;
}

const RATES = ['unavailable', 'ambiguous', 'reset', 'enospc', 'truncateGet', 'truncatePut'] as const;
const APPLIES: Record<(typeof RATES)[number], (op: BackendOperation) => boolean> = {
  unavailable: () => true,
  ambiguous: (op) => op !== 'get' && op !== 'presign',
  reset: () => true,
  enospc: (op) => op === 'put',
  truncateGet: (op) => op === 'get',
  truncatePut: (op) => op === 'put',
};

export class FaultInjector {
  private plan: FaultPlan;
  private readonly seen = new Map<string, number>();
  private step = 0;
  /** How many of each fault were injected: what a test asserts its run actually exercised. */
  readonly injected: Record<FaultKind, number> = { down: 0, unavailable: 0, ambiguous: 0, reset: 0, enospc: 0, truncateGet: 0, truncatePut: 0, latency: 0, crash: 0 };

  constructor(
    plan: FaultPlan,
    /** Called for the planned crash; the default is a real `kill -9` of this process. */
    readonly onCrash: (info: { step: number; operation: BackendOperation; key: string }) => void = () => process.kill(process.pid, 'SIGKILL'),
    private readonly source?: { file: string; mtimeMs: number },
  ) {
    this.plan = plan;
  }

  /** A plan kept in a JSON file, re-read when the file changes: how a test steers a service in another process. */
  static fromFile(file: string, onCrash?: FaultInjector['onCrash']): FaultInjector {
    const { mtimeMs } = statSync(file);
    return new FaultInjector(parseFaultPlan(readFileSync(file, 'utf8')), onCrash, { file, mtimeMs });
  }

  get current(): Readonly<FaultPlan> {
    this.reload();
    return this.plan;
  }

  update(changes: Partial<FaultPlan>): void {
    this.plan = { ...this.plan, ...changes };
  }

  get steps(): number {
    return this.step;
  }

  private reload(): void {
    if (!this.source) return;
    try {
      const { mtimeMs } = statSync(this.source.file);
      if (mtimeMs === this.source.mtimeMs) return;
      this.plan = parseFaultPlan(readFileSync(this.source.file, 'utf8'));
      this.source.mtimeMs = mtimeMs;
    } catch {
      // A half-written control file: keep the last good plan.
    }
  }

  /**
   * The k-th call's step number, or undefined when faults do not apply to this operation.
   * `presign` is spared unless listed: for S3 it is signing, done without the store.
   */
  enter(op: BackendOperation): number | undefined {
    const plan = this.current;
    if (plan.operations ? !plan.operations.includes(op) : op === 'presign') return undefined;
    this.step += 1;
    return this.step;
  }

  isDown(): boolean {
    return this.current.down === true;
  }

  crashAt(step: number | undefined, phase: 'before' | 'during' | 'after'): boolean {
    const crash = this.current.crash;
    return step !== undefined && crash !== undefined && crash.step === step && (crash.phase ?? 'before') === phase;
  }

  crash(step: number, operation: BackendOperation, key: string): void {
    this.injected.crash += 1;
    this.onCrash({ step, operation, key });
  }

  decide(op: BackendOperation, key: string): Decision {
    const plan = this.current;
    const id = `${op}\u0000${key}`;
    const n = (this.seen.get(id) ?? 0) + 1;
    this.seen.set(id, n);
    const digest = createHash('sha256').update(`${plan.seed}\u0000${id}\u0000${n}`).digest();
    const draw = (i: number) => digest.readUInt32BE(i * 4) / 2 ** 32;
    const decision: Decision = { delayMs: 0, cutAt: 0.05 + draw(2) * 0.9 };
    if (plan.latency && draw(1) < plan.latency) {
      const [min, max] = plan.latencyMs ?? [10, 100];
      decision.delayMs = Math.round(min + draw(3) * (max - min));
    }
    let threshold = 0;
    const u = draw(0);
    for (const kind of RATES) {
      const rate = plan[kind] ?? 0;
      if (rate <= 0 || !APPLIES[kind](op)) continue;
      threshold += rate;
      if (u < threshold) {
        decision.fault = kind;
        break;
      }
    }
    return decision;
  }

  /** How many times `operation` was called on `key` so far (every attempt of a retried call counts). */
  calls(operation: BackendOperation, key: string): number {
    return this.seen.get(`${operation}\u0000${key}`) ?? 0;
  }

  count(kind: FaultKind): void {
    this.injected[kind] += 1;
  }
}

export function parseFaultPlan(text: string): FaultPlan {
  const plan = JSON.parse(text) as FaultPlan;
  if (typeof plan !== 'object' || plan === null || typeof plan.seed !== 'number') throw new Error('a fault plan is a JSON object with a numeric "seed"');
  return plan;
}

const injectedError = (what: string, temporary = true) => new StorageError('BackendUnavailable', `injected fault: ${what}`, { temporary, details: { injected: true } });

/**
 * Lets `limit` bytes through, then fails with `error` or, without one, ends early. Pulled
 * lazily (an async generator), so nothing flows — and no error fires — before the consumer reads.
 */
function cutBody(body: Readable, limit: number, error: (() => Error) | undefined, onCut?: () => void): Readable {
  async function* cut() {
    let passed = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const room = limit - passed;
      if (chunk.length < room) {
        passed += chunk.length;
        yield chunk;
        continue;
      }
      if (room > 0) yield chunk.subarray(0, room);
      onCut?.();
      if (error) throw error();
      return;
    }
  }
  return Readable.from(cut(), { objectMode: false });
}

/** Wraps any backend with the injector's faults; `close` is never faulted. */
export function faultLayer(injector: FaultInjector): Layer {
  return (inner: Backend): Backend => {
    const base = forwardAll(inner, async (op, key, call) => {
      const step = injector.enter(op);
      if (step === undefined) return call();
      return run(op, key, step, call);
    });

    /** The faults every operation shares; returns the decision for the ones that add their own. */
    async function start(op: BackendOperation, key: string, step: number): Promise<Decision> {
      if (injector.crashAt(step, 'before') || (op !== 'put' && injector.crashAt(step, 'during'))) injector.crash(step, op, key);
      if (injector.isDown()) {
        injector.count('down');
        throw injectedError('backend is down');
      }
      const d = injector.decide(op, key);
      if (d.delayMs) {
        injector.count('latency');
        await sleep(d.delayMs);
      }
      if (d.fault === 'unavailable' || (d.fault === 'reset' && op !== 'put')) {
        injector.count(d.fault);
        throw injectedError(d.fault === 'reset' ? 'connection reset' : '503 Service Unavailable');
      }
      return d;
    }

    async function run<T>(op: BackendOperation, key: string, step: number, call: () => Promise<T>): Promise<T> {
      const d = await start(op, key, step);
      const result = await call();
      if (injector.crashAt(step, 'after')) injector.crash(step, op, key);
      if (d.fault === 'ambiguous') {
        injector.count('ambiguous');
        throw injectedError('answer lost after the call took effect');
      }
      if (d.fault === 'truncateGet') {
        injector.count('truncateGet');
        const got = result as GetResult;
        const length = got.range ? got.range.end - got.range.start + 1 : got.info.size;
        return { ...got, body: cutBody(got.body, Math.floor(length * d.cutAt), () => injectedError('download cut off')) } as T;
      }
      return result;
    }

    return {
      ...base,
      async put(key, body, opts) {
        const step = injector.enter('put');
        if (step === undefined) return inner.put(key, body, opts);
        // A fault here leaves the body untouched, as a real backend that fails before reading
        // does: the caller (or the fallback) decides what becomes of it.
        const d = await start('put', key, step);
        // Cut somewhere inside the body; without a declared length, within the first 64 KiB.
        const limit = Math.floor((opts?.contentLength ?? 64 * 1024) * d.cutAt);
        let sent = body;
        let injected: StorageError | undefined;
        if (d.fault === 'reset' || d.fault === 'enospc') {
          const error =
            d.fault === 'reset'
              ? injectedError('connection reset during the upload')
              : new StorageError('InsufficientStorage', 'injected fault: no space left on the device', { details: { injected: true } });
          injected = error;
          sent = cutBody(body, limit, () => error);
        } else if (d.fault === 'truncatePut') {
          injected = injectedError('upload truncated in transit');
          sent = cutBody(body, limit, undefined);
        } else if (injector.crashAt(step, 'during')) {
          sent = cutBody(body, Math.floor((opts?.contentLength ?? 2) / 2), undefined, () => injector.crash(step, 'put', key));
        }
        try {
          const info = await inner.put(key, sent, opts);
          if (injector.crashAt(step, 'after')) injector.crash(step, 'put', key);
          if (d.fault === 'ambiguous') {
            injector.count('ambiguous');
            throw injectedError('answer lost after the upload was stored');
          }
          // A cut the backend could not notice (no declared length or checksum) stores a short object,
          // as a real broken proxy would; the caller sees it in the size it gets back.
          if (d.fault === 'truncatePut') injector.count('truncatePut');
          return info;
        } catch (err) {
          if (injected && d.fault && !(isStorageError(err) && err.details?.injected && err !== injected)) {
            injector.count(d.fault);
            // The backend saw a broken body; what the caller should see is the transport's failure.
            throw injected;
          }
          throw err;
        }
      },
    };
  };
}
