import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SharedPartsSha256, returnSharedBuffer, takeSharedBuffer } from '../../src/core/shared-parts.js';

const hex = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
};

function sharedCopy(bytes: Buffer): Buffer {
  const buffer = takeSharedBuffer(bytes.length);
  bytes.copy(buffer);
  return buffer;
}

describe('SharedPartsSha256 (parts hashed in place on the worker)', () => {
  it("gives each part's own SHA-256 and the whole body's, in body order", async () => {
    const parts = [randomBytes(5 << 20), randomBytes(1), randomBytes(3 << 20), Buffer.alloc(0)];
    const hasher = new SharedPartsSha256();
    const digests = await Promise.all(parts.map((p) => hasher.part(sharedCopy(p))));
    expect(digests).toEqual(parts.map((p) => hex(p)));
    expect(await hasher.digest()).toBe(hex(...parts));
  });

  it('hashes a view into a larger shared buffer by its own bytes only', async () => {
    const whole = sharedCopy(randomBytes(1000));
    const hasher = new SharedPartsSha256();
    expect(await hasher.part(whole.subarray(100, 300))).toBe(hex(whole.subarray(100, 300)));
    expect(await hasher.digest()).toBe(hex(whole.subarray(100, 300)));
  });

  it('keeps concurrent bodies apart', async () => {
    const [a, b] = [randomBytes(2 << 20), randomBytes(2 << 20)];
    const [ha, hb] = [new SharedPartsSha256(), new SharedPartsSha256()];
    await Promise.all([ha.part(sharedCopy(a.subarray(0, 1 << 20))), hb.part(sharedCopy(b.subarray(0, 1 << 20)))]);
    await Promise.all([hb.part(sharedCopy(b.subarray(1 << 20))), ha.part(sharedCopy(a.subarray(1 << 20)))]);
    expect(await ha.digest()).toBe(hex(a));
    expect(await hb.digest()).toBe(hex(b));
  });

  it('refuses a part that is not in shared memory (it could not be read in place)', () => {
    const hasher = new SharedPartsSha256();
    expect(() => hasher.part(Buffer.from('not shared'))).toThrow(/shared memory/);
    hasher.abort();
  });

  it('abort fails the parts still waiting and the digest, instead of leaving them pending', async () => {
    const hasher = new SharedPartsSha256();
    const waiting = hasher.part(sharedCopy(randomBytes(8 << 20)));
    hasher.abort();
    await expect(waiting).rejects.toThrow(/abandoned/);
    await expect(hasher.digest()).rejects.toThrow(/abandoned/);
  });
});

describe('shared part buffers', () => {
  it('are reused once handed back, and only whole buffers of shared memory are taken back', () => {
    const first = takeSharedBuffer(4096);
    expect(first.buffer).toBeInstanceOf(SharedArrayBuffer);
    returnSharedBuffer(first);
    expect(takeSharedBuffer(4096)).toBe(first);
    returnSharedBuffer(first.subarray(1)); // a view: not a pooled buffer
    returnSharedBuffer(Buffer.alloc(4096)); // not shared
    expect(takeSharedBuffer(4096)).not.toBe(first);
  });
});

describe('when the hash worker goes idle', () => {
  it('stops it and empties the pool, so shared memory it saw can be freed', async () => {
    const part = takeSharedBuffer(8192);
    const hasher = new SharedPartsSha256();
    await hasher.part(part);
    await hasher.digest();
    returnSharedBuffer(part);
    await new Promise((resolve) => setTimeout(resolve, 2600)); // the worker's idle delay is 2 s
    expect(takeSharedBuffer(8192)).not.toBe(part);
    // and a new body starts a new worker
    const again = new SharedPartsSha256();
    expect(await again.part(part)).toBe(hex(part));
    expect(await again.digest()).toBe(hex(part));
  });
});
