import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OffThreadSha256 } from '../../src/core/sha256-worker.js';

/** Feeds `chunks` in order, honouring backpressure (the next waits for `ready`). */
async function hashOffThread(chunks: Buffer[]): Promise<string> {
  const job = new OffThreadSha256();
  for (const chunk of chunks) await new Promise<void>((ready) => job.update(chunk, ready));
  return job.digest();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Splits `data` into pieces of the given sizes, cycling through them. */
function split(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - at);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('OffThreadSha256 (bodies hashed on the worker, sent in messages of up to 1 MiB)', () => {
  it('gives the SHA-256 of the whole body, however it is cut across message boundaries', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 7);
    for (const sizes of [[65536], [1], [1024 * 1024], [1024 * 1024 + 3], [3 * 1024 * 1024], [7, 65536, 1024 * 1024 - 1, 2_500_000]]) {
      const chunks = sizes[0] === 1 ? split(data.subarray(0, 200_000), sizes) : split(data, sizes);
      const whole = Buffer.concat(chunks);
      expect(await hashOffThread(chunks)).toBe(sha256(whole));
    }
  });

  it('hashes an empty body, and bodies hashed at the same time do not mix', async () => {
    expect(await hashOffThread([])).toBe(sha256(Buffer.alloc(0)));
    const bodies = Array.from({ length: 6 }, (_, i) => randomBytes(300_000 * (i + 1)));
    const digests = await Promise.all(bodies.map((b, i) => hashOffThread(split(b, [65536 + i * 1000]))));
    expect(digests).toEqual(bodies.map(sha256));
  });

  it('leaves the chunks it was given untouched', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const copy = Buffer.from(data);
    await hashOffThread(split(data, [65536]));
    expect(data.equals(copy)).toBe(true);
  });
});
