import { describe, expect, it } from 'vitest';
import { ChunkPool, isLentChunk, releaseChunk } from '../../src/core/lent-chunks.js';

describe('lent chunks (core/lent-chunks.ts)', () => {
  it('gives a released buffer back out, once', () => {
    const pool = new ChunkPool(16, 2);
    const a = pool.take();
    expect(a.length).toBe(16);
    expect(isLentChunk(a)).toBe(true);
    releaseChunk(a);
    expect(isLentChunk(a)).toBe(false);
    releaseChunk(a); // a second release of the same chunk must not put it in the pool twice
    expect(pool.take()).toBe(a);
    expect(pool.take()).not.toBe(a);
  });

  it('ignores buffers it did not lend: plain buffers, slices and copies of lent ones', () => {
    const pool = new ChunkPool(16, 2);
    const lent = pool.take();
    for (const other of [Buffer.alloc(16), lent.subarray(0, 8), Buffer.from(lent)]) {
      expect(isLentChunk(other)).toBe(false);
      releaseChunk(other);
    }
    const next = pool.take();
    expect(next).not.toBe(lent);
    expect(isLentChunk('not a buffer')).toBe(false);
  });

  it('keeps at most `keep` released buffers, and none once closed', () => {
    const pool = new ChunkPool(8, 1);
    const [a, b] = [pool.take(), pool.take()];
    releaseChunk(a);
    releaseChunk(b);
    expect(pool.take()).toBe(a);
    const c = pool.take();
    expect(c).not.toBe(b);
    pool.close();
    releaseChunk(c);
    expect(pool.take()).not.toBe(c);
  });
});
