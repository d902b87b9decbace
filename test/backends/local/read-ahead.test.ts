import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAhead } from '../../../src/backends/local/read-ahead.js';
import { isLentChunk, releaseChunk } from '../../../src/core/lent-chunks.js';

let dir: string;
let file: string;
const data = randomBytes(1000_003);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bg-read-ahead-'));
  file = join(dir, 'f.bin');
  await writeFile(file, data);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('readAhead (local reads with two reads in flight)', () => {
  it('gives exactly bytes start..end, across and within chunk boundaries, and closes the handle at the end', async () => {
    for (const [start, end, chunk] of [
      [0, data.length - 1, 65536],
      [0, data.length - 1, 1 << 20],
      [5, 5, 4096],
      [4095, 4096, 4096],
      [123, 456_789, 1000],
      [data.length - 1, data.length - 1, 7],
    ] as const) {
      const fh = await open(file, 'r');
      const got = await collect(readAhead(fh, start, end, chunk));
      expect(got.equals(data.subarray(start, end + 1))).toBe(true); // (toEqual walks a Buffer byte by byte)
      await new Promise((r) => setImmediate(r));
      expect(fh.fd).toBe(-1);
    }
  });

  it('keeps at most two reads in flight, and none beyond what a slow consumer asked for', async () => {
    const fh = await open(file, 'r');
    let inflight = 0;
    let most = 0;
    let reads = 0;
    const read = fh.read.bind(fh) as (...args: unknown[]) => Promise<{ bytesRead: number; buffer: Buffer }>;
    (fh as unknown as { read: unknown }).read = async (...args: unknown[]) => {
      reads += 1;
      most = Math.max(most, ++inflight);
      try {
        return await read(...args);
      } finally {
        inflight -= 1;
      }
    };
    const stream = readAhead(fh, 0, data.length - 1, 10_000);
    const first = await new Promise<Buffer>((resolve) => stream.once('data', (c: Buffer) => (stream.pause(), resolve(c))));
    expect(first.equals(data.subarray(0, 10_000))).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toBeLessThanOrEqual(5); // the first chunk, the buffer's worth, two ahead: not the whole file
    stream.resume();
    expect(Buffer.concat([first, await collect(stream)]).equals(data)).toBe(true);
    expect(most).toBe(2);
  });

  it('destroyed midway, waits for its reads and closes the handle', async () => {
    const fh = await open(file, 'r');
    const stream = readAhead(fh, 0, data.length - 1, 4096);
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.destroy();
    await new Promise((r) => stream.once('close', r));
    expect(fh.fd).toBe(-1);
  });

  it('fails, rather than ending early, when the file is cut short while read', async () => {
    const path = join(dir, 'cut.bin');
    await writeFile(path, data);
    const fh = await open(path, 'r');
    await truncate(path, 1000);
    await expect(collect(readAhead(fh, 0, data.length - 1, 4096))).rejects.toMatchObject({ code: 'BackendUnavailable' });
    expect(fh.fd).toBe(-1);
  });

  it('reads into chunks its reader released, and the bytes stay right', async () => {
    const fh = await open(file, 'r');
    const seen = new Set<ArrayBufferLike>();
    const parts: Buffer[] = [];
    for await (const c of readAhead(fh, 0, data.length - 1, 10_000)) {
      const chunk = c as Buffer;
      parts.push(Buffer.from(chunk)); // a copy: the chunk itself is about to be read into again
      seen.add(chunk.buffer);
      releaseChunk(chunk);
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    // 101 chunks through a handful of buffers: two reads in flight, one with the reader, spares.
    expect(parts.length).toBe(101);
    expect(seen.size).toBeLessThanOrEqual(5);
  });

  it('never reuses a chunk its reader kept, nor one released after the stream ended', async () => {
    const fh = await open(file, 'r');
    const kept: Buffer[] = [];
    for await (const c of readAhead(fh, 0, data.length - 1, 10_000)) kept.push(c as Buffer);
    expect(new Set(kept.map((c) => c.buffer)).size).toBe(kept.length);
    expect(Buffer.concat(kept).equals(data)).toBe(true);
    // The last chunk is short (not lent); whole ones are, and releasing them now is harmless.
    expect(isLentChunk(kept[0])).toBe(true);
    expect(isLentChunk(kept[kept.length - 1])).toBe(false);
    const before = Buffer.from(kept[0]!);
    for (const c of kept) releaseChunk(c);
    await new Promise((r) => setImmediate(r));
    expect(kept[0]!.equals(before)).toBe(true);
  });
});
