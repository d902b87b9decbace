import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLocalBackend } from '../../../src/backends/local/index.js';

it('puts racing deletes in the same folder never fail for want of the folder', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bg-race-'));
  const backend = await createLocalBackend({ root, fsync: false });
  try {
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async (_, worker) => {
        for (let i = 0; i < 60; i++) {
          const key = `uploads/shared/deep/w${worker}-${i}.txt`;
          try {
            await backend.put(key, Readable.from([Buffer.from('x')]));
            await backend.delete(key);
          } catch (err) {
            failures.push(`${key}: ${(err as Error).message}`);
          }
        }
      }),
    );
    expect(failures).toEqual([]);
  } finally {
    await backend.close();
    await rm(root, { recursive: true, force: true });
  }
});
