import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../src/backends/local/index.js';
import type { Backend } from '../../src/core/backend.js';
import { DEFAULT_CONCURRENCY, transfer } from '../../src/service/transfer.js';

const MiB = 1024 * 1024;
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function localBucket(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), 'bucketgate-transfer-'));
  dirs.push(dir);
  return createLocalBackend({ root: dir, fsync: false });
}

/** The target, with the most puts ever in flight at once counted by size class. */
function counting(target: Backend) {
  const inFlight = { small: 0, large: 0 };
  const most = { small: 0, large: 0, all: 0 };
  const put: Backend['put'] = async (key, body, opts) => {
    const kind = key.includes('/large/') ? 'large' : 'small';
    inFlight[kind]++;
    most[kind] = Math.max(most[kind], inFlight[kind]);
    most.all = Math.max(most.all, inFlight.small + inFlight.large);
    try {
      await new Promise((resolve) => setTimeout(resolve, 20)); // a store that takes its time
      return await target.put(key, body, opts);
    } finally {
      inFlight[kind]--;
    }
  };
  return { backend: Object.assign(Object.create(target) as Backend, { put }), most };
}

describe('transfer concurrency', () => {
  it(`copies ${DEFAULT_CONCURRENCY} small objects at once by default, but at most 4 over 1 MiB`, async () => {
    const source = await localBucket();
    const target = await localBucket();
    for (let i = 0; i < 40; i++) await source.put(`uploads/small/${i}.bin`, Readable.from([Buffer.alloc(1024, i)]));
    for (let i = 0; i < 8; i++) await source.put(`videos/large/${i}.bin`, Readable.from([Buffer.alloc(MiB + 1, i)]));
    const { backend, most } = counting(target);
    const report = await transfer(source, backend, { segments: ['uploads', 'videos'] });
    expect(report.totals.copied).toBe(48);
    expect(report.totals.failed).toBe(0);
    expect(most.large).toBe(4);
    expect(most.small).toBeGreaterThan(4);
    expect(most.all).toBe(DEFAULT_CONCURRENCY);
    expect((await target.head('videos/large/7.bin')).size).toBe(MiB + 1);
  });

  it('never runs more than --concurrency at once, large or small', async () => {
    const source = await localBucket();
    const target = await localBucket();
    for (let i = 0; i < 6; i++) await source.put(`videos/large/${i}.bin`, Readable.from([Buffer.alloc(MiB + 1, i)]));
    const { backend, most } = counting(target);
    await transfer(source, backend, { segments: ['videos'], concurrency: 2 });
    expect(most.large).toBe(2);
  });
});
