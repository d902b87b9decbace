import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/core/backend.js';
import { isStorageError } from '../../src/core/errors.js';
import { FaultInjector, type FaultPlan, faultLayer } from '../../src/layers/faults.js';
import { bytes, localBackend, outcome, readAll, tempFiles } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function faulty(plan: FaultPlan, onCrash?: FaultInjector['onCrash']) {
  const local = await localBackend();
  cleanups.push(local.cleanup);
  const injector = new FaultInjector(plan, onCrash ?? (() => undefined));
  return { ...local, injector, faulty: faultLayer(injector)(local.backend) as Backend };
}

async function outcomes(plan: FaultPlan, n = 40): Promise<string[]> {
  const { faulty: b } = await faulty(plan);
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    const data = bytes(2000, i);
    seen.push(await outcome(b.put(`uploads/k${i % 7}`, Readable.from([data]), { contentLength: data.length })));
    seen.push(await outcome(b.head(`uploads/k${i % 7}`)));
  }
  return seen;
}

describe('fault layer', () => {
  it('is reproducible: the same seed gives the same faults, another seed others', async () => {
    const plan = { seed: 7, unavailable: 0.2, reset: 0.1, enospc: 0.1 };
    const a = await outcomes(plan);
    const b = await outcomes(plan);
    const c = await outcomes({ ...plan, seed: 8 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.filter((o) => o === 'BackendUnavailable').length).toBeGreaterThan(3);
    expect(a).toContain('InsufficientStorage');
  });

  it('decides per (operation, key, n), so concurrency does not change the faults', async () => {
    const plan = { seed: 3, unavailable: 0.3 };
    const serial = await outcomes(plan, 20);
    const { faulty: b } = await faulty(plan);
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const key = `uploads/c${i}`;
        const data = bytes(100, i);
        return [await outcome(b.put(key, Readable.from([data]))), await outcome(b.head(key))];
      }),
    );
    const again = await faulty(plan);
    const serial2 = [];
    for (let i = 0; i < 20; i++) {
      const key = `uploads/c${i}`;
      serial2.push([await outcome(again.faulty.put(key, Readable.from([bytes(100, i)]))), await outcome(again.faulty.head(key))]);
    }
    expect(concurrent).toEqual(serial2);
    expect(serial.length).toBe(40);
  });

  it('down: every call fails with BackendUnavailable and changes nothing', async () => {
    const { faulty: b, backend, injector } = await faulty({ seed: 1 });
    await b.put('uploads/a', Readable.from([Buffer.from('A')]));
    injector.update({ down: true });
    expect(await outcome(b.put('uploads/b', Readable.from([Buffer.from('B')])))).toBe('BackendUnavailable');
    expect(await outcome(b.delete('uploads/a'))).toBe('BackendUnavailable');
    expect(await outcome(b.get('uploads/a'))).toBe('BackendUnavailable');
    expect(await outcome(b.health())).toBe('BackendUnavailable');
    expect((await backend.list('uploads/')).objects.map((o) => o.key)).toEqual(['uploads/a']);
    injector.update({ down: false });
    expect(await outcome(b.head('uploads/a'))).toBe('ok');
  });

  it('a reset or a full disk part-way through a put stores nothing and leaves no temp file', async () => {
    for (const kind of ['reset', 'enospc'] as const) {
      const { faulty: b, backend, root, injector } = await faulty({ seed: 11, [kind]: 1 });
      const data = bytes(300_000, 5);
      const code = await outcome(b.put('uploads/big', Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), { contentLength: data.length }));
      expect(code).toBe(kind === 'reset' ? 'BackendUnavailable' : 'InsufficientStorage');
      expect(injector.injected[kind]).toBe(1);
      expect(await outcome(backend.head('uploads/big'))).toBe('NotFound');
      expect(await tempFiles(root)).toEqual([]);
    }
  });

  it('a put truncated in transit is refused when its length was declared', async () => {
    const { faulty: b, backend } = await faulty({ seed: 2, truncatePut: 1 });
    const data = bytes(50_000, 9);
    expect(await outcome(b.put('uploads/t', Readable.from([data]), { contentLength: data.length }))).toBe('BackendUnavailable');
    expect(await outcome(backend.head('uploads/t'))).toBe('NotFound');
  });

  it('a truncated get fails its body part-way with BackendUnavailable', async () => {
    const { faulty: b, backend } = await faulty({ seed: 4, truncateGet: 1 });
    const data = bytes(200_000, 3);
    await backend.put('uploads/g', Readable.from([data]));
    const got = await b.get('uploads/g');
    const err = await readAll(got.body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isStorageError(err, 'BackendUnavailable')).toBe(true);
  });

  it('an ambiguous failure takes effect but reports BackendUnavailable', async () => {
    const { faulty: b, backend } = await faulty({ seed: 4, ambiguous: 1 });
    expect(await outcome(b.put('uploads/amb', Readable.from([Buffer.from('x')])))).toBe('BackendUnavailable');
    expect((await backend.head('uploads/amb')).size).toBe(1);
  });

  it('latency delays calls', async () => {
    const { faulty: b } = await faulty({ seed: 4, latency: 1, latencyMs: [60, 80] });
    const started = Date.now();
    await outcome(b.head('uploads/none'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('crashes at step k, before, during or after the call', async () => {
    for (const phase of ['before', 'during', 'after'] as const) {
      const crashes: string[] = [];
      const { faulty: b, backend } = await faulty({ seed: 1, crash: { step: 3, phase } }, (c) => crashes.push(`${c.step}:${c.operation}:${c.key}`));
      for (let i = 1; i <= 4; i++) {
        const data = bytes(10_000, i);
        await b.put(`uploads/s${i}`, Readable.from([data]), { contentLength: data.length }).catch(() => undefined);
      }
      expect(crashes).toEqual(['3:put:uploads/s3']);
      // The callback here does not kill the process: a "during" crash then ends the body early.
      expect(await outcome(backend.head('uploads/s3'))).toBe(phase === 'during' ? 'NotFound' : 'ok');
    }
  });

  it('can be steered through a control file, re-read when it changes', async () => {
    const { root, backend } = await faulty({ seed: 1 });
    const file = join(root, 'faults.json');
    writeFileSync(file, JSON.stringify({ seed: 1 }));
    const injector = FaultInjector.fromFile(file, () => undefined);
    const b = faultLayer(injector)(backend);
    expect(await outcome(b.health())).toBe('ok');
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(file, JSON.stringify({ seed: 1, down: true }));
    expect(await outcome(b.health())).toBe('BackendUnavailable');
  });
});
