import { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/core/backend.js';
import { StorageError } from '../../src/core/errors.js';
import { BackendCircuit, circuitLayer, isCircuitOpen } from '../../src/layers/circuit.js';
import { FaultInjector, type FaultPlan, faultLayer } from '../../src/layers/faults.js';
import { forwardAll } from '../../src/layers/forward.js';
import { bufferBodiesLayer, replayable } from '../../src/layers/replayable.js';
import { type RetryOptions, retryLayer } from '../../src/layers/retry.js';
import { bytes, localBackend, outcome, readAll, sha256 } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const FAST: RetryOptions = { attempts: 4, initialDelayMs: 1, maxDelayMs: 5, maxTotalMs: 5000, attemptTimeoutMs: 2000 };

/** backend → faults → counting → retry: counts what reached the faulty backend. */
async function stack(plan: FaultPlan, retry: Partial<RetryOptions> = {}) {
  const local = await localBackend();
  cleanups.push(local.cleanup);
  const injector = new FaultInjector(plan, () => undefined);
  const calls: string[] = [];
  const counted = forwardAll(faultLayer(injector)(local.backend), (op, key, call) => {
    calls.push(`${op} ${key}`);
    return call();
  });
  const retries: number[] = [];
  const backend = retryLayer({ ...FAST, ...retry, onRetry: (_op, n) => retries.push(n) })(counted);
  return { ...local, raw: local.backend, backend, injector, calls, retries };
}

describe('retry layer', () => {
  it('retries replayable puts and idempotent reads through transient failures, byte-exact', async () => {
    const s = await stack({ seed: 6, unavailable: 0.2, reset: 0.1 }, { attempts: 6 });
    for (let i = 0; i < 60; i++) {
      const data = bytes(20_000 + i, i);
      const info = await s.backend.put(`uploads/r${i}`, replayable(data), { contentLength: data.length });
      expect(info.sha256).toBe(sha256(data));
      expect(await readAll((await s.backend.get(`uploads/r${i}`)).body)).toEqual(data);
    }
    expect(s.retries.length).toBeGreaterThan(10);
    expect(Math.max(...s.retries)).toBeLessThanOrEqual(5);
  });

  it('gives a one-shot put exactly one attempt', async () => {
    const s = await stack({ seed: 1, unavailable: 1 });
    expect(await outcome(s.backend.put('uploads/once', Readable.from([Buffer.from('x')])))).toBe('BackendUnavailable');
    expect(s.calls).toEqual(['put uploads/once']);
  });

  it('never retries a permanent failure or a create-only put', async () => {
    const s = await stack({ seed: 1 });
    expect(await outcome(s.backend.get('uploads/missing'))).toBe('NotFound');
    expect(s.calls).toEqual(['get uploads/missing']);
    s.injector.update({ unavailable: 1 });
    expect(await outcome(s.backend.put('uploads/c', replayable(Buffer.from('c')), { ifNoneMatch: '*' }))).toBe('BackendUnavailable');
    expect(await outcome(s.backend.move('uploads/a', 'uploads/b'))).toBe('BackendUnavailable');
    expect(s.calls.filter((c) => c.startsWith('put') || c.startsWith('move'))).toEqual(['put uploads/c', 'move uploads/a']);
  });

  it('bounds attempts and total time', async () => {
    const s = await stack({ seed: 1, down: true });
    expect(await outcome(s.backend.head('uploads/x'))).toBe('BackendUnavailable');
    expect(s.calls.length).toBe(4);
    const slow = await stack({ seed: 1, down: true }, { attempts: 100, initialDelayMs: 50, maxDelayMs: 50, maxTotalMs: 300 });
    const started = Date.now();
    expect(await outcome(slow.backend.head('uploads/x'))).toBe('BackendUnavailable');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(slow.calls.length).toBeLessThan(12);
  });

  it('times out a hung attempt inside the retry, and retries it', async () => {
    const s = await stack({ seed: 2, latency: 1, latencyMs: [400, 400] }, { attemptTimeoutMs: 100, attempts: 3 });
    const started = Date.now();
    const err = await s.backend.head('uploads/slow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('BackendUnavailable');
    expect((err as StorageError).message).toMatch(/within 100 ms/);
    expect(s.calls.length).toBe(3);
    expect(Date.now() - started).toBeLessThan(3000); // not 3 × 400 ms: each attempt was cut at 100 ms
  });

  it('aborts a put whose backend stops taking the body', async () => {
    const s = await stack({ seed: 2, latency: 1, latencyMs: [500, 500] }, { attemptTimeoutMs: 100, attempts: 1 });
    const err = await s.backend.put('uploads/stall', replayable(bytes(1000))).catch((e: unknown) => e);
    expect((err as StorageError).message).toMatch(/within 100 ms/);
    await new Promise((r) => setTimeout(r, 600));
    expect(await outcome(s.raw.head('uploads/stall'))).toBe('NotFound');
  });

  it('lets a slow body through as long as every chunk comes within the timeout, and stops one that pauses too long', async () => {
    const s = await stack({ seed: 1 }, { attemptTimeoutMs: 150, attempts: 1 });
    // 8 chunks 60 ms apart: the put takes ~480 ms, over three times the timeout, but never idles 150 ms.
    const slow = (pauses: number[]) =>
      Readable.from(
        (async function* () {
          for (const [i, pause] of pauses.entries()) {
            await new Promise((r) => setTimeout(r, pause));
            yield bytes(1000, i);
          }
        })(),
      );
    const info = await s.backend.put('uploads/slow', slow([60, 60, 60, 60, 60, 60, 60, 60]));
    expect(info.size).toBe(8000);
    expect(sha256(await readAll((await s.raw.get('uploads/slow')).body))).toBe(sha256(Buffer.concat([0, 1, 2, 3, 4, 5, 6, 7].map((i) => bytes(1000, i)))));
    const err = await s.backend.put('uploads/paused', slow([60, 60, 400, 60])).catch((e: unknown) => e);
    expect((err as StorageError).message).toMatch(/within 150 ms/);
    expect(await outcome(s.raw.head('uploads/paused'))).toBe('NotFound');
  });

  it('leaves a one-shot body untouched when the backend fails or stalls before reading it, so a fallback can still take it whole', async () => {
    const local = await localBackend();
    cleanups.push(local.cleanup);
    const data = bytes(196_608, 4);
    for (const failure of ['refuses', 'hangs'] as const) {
      const primary: Backend = {
        ...local.backend,
        async put() {
          if (failure === 'hangs') return new Promise<never>(() => undefined);
          await new Promise((r) => setTimeout(r, 20));
          throw new StorageError('BackendUnavailable', 'primary refuses', { temporary: true });
        },
      };
      const backend = retryLayer({ ...FAST, attemptTimeoutMs: 100 })(primary);
      const body = Readable.from([data.subarray(0, 65_536), data.subarray(65_536, 131_072), data.subarray(131_072)], { objectMode: false });
      const err = await backend.put(`uploads/${failure}`, body).catch((e: unknown) => e);
      expect((err as StorageError).code).toBe('BackendUnavailable');
      expect(body.readableDidRead).toBe(false);
      expect(sha256(await readAll(body))).toBe(sha256(data));
    }
  });

  it('makes small stream bodies replayable above it (bufferBodiesLayer)', async () => {
    const s = await stack({ seed: 9, unavailable: 0.3 }, { attempts: 6 });
    const top = bufferBodiesLayer({ maxBytes: 1 << 20, budgetBytes: 8 << 20 })(s.backend);
    for (let i = 0; i < 20; i++) {
      const data = bytes(30_000, i);
      await top.put(`uploads/b${i}`, Readable.from([data.subarray(0, 10_000), data.subarray(10_000)]));
      expect(await readAll((await s.raw.get(`uploads/b${i}`)).body)).toEqual(data);
    }
    // Above the bound it streams through once, untouched.
    const big = bytes(3 << 20, 1);
    s.injector.update({ unavailable: 0 });
    await top.put('uploads/big', Readable.from([big]));
    expect((await s.raw.head('uploads/big')).sha256).toBe(sha256(big));
  });
});

describe('circuit breaker', () => {
  async function guarded(plan: FaultPlan) {
    const s = await stack(plan, { attempts: 1 });
    const circuit = new BackendCircuit('local', { failures: 3, halfOpenAfterMs: 150 });
    return { ...s, circuit, guarded: circuitLayer(circuit)(s.backend) as Backend };
  }

  it('opens after consecutive unavailability, fails fast, probes, and closes again', async () => {
    const s = await guarded({ seed: 1, down: true });
    expect(s.circuit.state).toBe('closed');
    for (let i = 0; i < 3; i++) expect(await outcome(s.guarded.head('uploads/x'))).toBe('BackendUnavailable');
    expect(s.circuit.state).toBe('open');
    const before = s.calls.length;
    const err = await s.guarded.head('uploads/x').catch((e: unknown) => e);
    expect(isCircuitOpen(err)).toBe(true);
    expect(s.calls.length).toBe(before); // nothing reached the backend
    s.injector.update({ down: false });
    await new Promise((r) => setTimeout(r, 200));
    expect(await outcome(s.guarded.head('uploads/x'))).toBe('NotFound'); // the probe
    expect(s.circuit.state).toBe('closed');
    expect(s.circuit.status().opens).toBe(1);
  });

  it('a probe that hangs is cut off by the attempt timeout and re-opens the circuit; a later probe closes it', async () => {
    const s = await stack({ seed: 1, down: true }, { attempts: 1, attemptTimeoutMs: 100 });
    const circuit = new BackendCircuit('local', { failures: 3, halfOpenAfterMs: 150 });
    const guarded = circuitLayer(circuit)(s.backend) as Backend;
    for (let i = 0; i < 3; i++) await outcome(guarded.head('uploads/x'));
    expect(circuit.state).toBe('open');
    // The backend is back but hangs: every call waits 5 s.
    s.injector.update({ down: false, latency: 1, latencyMs: [5000, 5000] });
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const probe = guarded.head('uploads/x');
    // While the probe runs, other calls fail fast instead of queueing behind it.
    expect(isCircuitOpen(await guarded.head('uploads/y').catch((e: unknown) => e))).toBe(true);
    expect(await outcome(probe)).toBe('BackendUnavailable');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(circuit.state).toBe('open');
    s.injector.update({ latency: 0 });
    await new Promise((r) => setTimeout(r, 200));
    expect(await outcome(guarded.head('uploads/x'))).toBe('NotFound');
    expect(circuit.state).toBe('closed');
    expect(circuit.status().opens).toBe(2);
  });

  it('does not count NotFound or client errors', async () => {
    const s = await guarded({ seed: 1 });
    for (let i = 0; i < 10; i++) expect(await outcome(s.guarded.get('uploads/none'))).toBe('NotFound');
    expect(s.circuit.state).toBe('closed');
  });

  it('leaves a one-shot body untouched when open, and reports its state in metrics', async () => {
    const s = await guarded({ seed: 1, down: true });
    for (let i = 0; i < 3; i++) await outcome(s.guarded.health());
    const body = Readable.from([Buffer.from('keep me')]);
    expect(await outcome(s.guarded.put('uploads/k', body))).toBe('BackendUnavailable');
    expect(body.readableDidRead).toBe(false);
    const registry = new Registry();
    s.circuit.register(registry);
    const text = await registry.metrics();
    expect(text).toMatch(/bucketgate_circuit_state\{backend="local"\} 1/);
    expect(text).toMatch(/bucketgate_circuit_opened_total\{backend="local"\} 1/);
  });
});
