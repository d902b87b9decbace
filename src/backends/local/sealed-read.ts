import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { HEADER_BYTES, type LocalCipher, PLAIN_CHUNK, chunkCount, chunkSpan, plainSizeOf, tampered } from './encryption.js';

/** Chunks read per disk read: ~1 MiB, the same batch size as plaintext reads. */
const BATCH = 16;

async function readExactly(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buffer, got, length - got, offset + got);
    if (bytesRead === 0) throw tampered(); // shorter than its size says: cut off
    got += bytesRead;
  }
  return buffer;
}

/** Decrypts chunks `first..last` (inclusive) in one disk read. */
async function openChunks(cipher: LocalCipher, fh: FileHandle, keys: ReturnType<LocalCipher['openHeader']>, plain: number, first: number, last: number): Promise<Buffer[]> {
  const from = chunkSpan(first, plain).offset;
  const to = chunkSpan(last, plain);
  const sealed = await readExactly(fh, from, to.offset + to.length - from);
  const finalIndex = chunkCount(plain) - 1;
  const out: Buffer[] = [];
  for (let i = first; i <= last; i++) {
    const span = chunkSpan(i, plain);
    out.push(cipher.open(keys, i, i === finalIndex, sealed.subarray(span.offset - from, span.offset - from + span.length)));
  }
  return out;
}

/**
 * A stream of plaintext bytes `start..end` of a sealed file of `plain` bytes, read through `fh`
 * (closed when the stream ends or is destroyed). The first chunk is decrypted before this
 * returns, so a tampered file is refused before any answer starts; a later chunk that fails
 * stops the stream before its bytes are given out.
 */
export async function openSealedRange(cipher: LocalCipher, fh: FileHandle, plain: number, start: number, end: number): Promise<Readable> {
  const keys = cipher.openHeader(await readExactly(fh, 0, HEADER_BYTES));
  if (end < start) {
    // An empty object still has its sealed final chunk: check it, so an emptied file is refused too.
    await openChunks(cipher, fh, keys, plain, 0, 0);
    await fh.close();
    return new Readable({
      read() {
        this.push(null);
      },
    });
  }
  const first = Math.floor(start / PLAIN_CHUNK);
  const last = Math.floor(end / PLAIN_CHUNK);
  let next = first;
  let ready = await openChunks(cipher, fh, keys, plain, first, first);
  next++;
  const slice = (index: number, chunk: Buffer) => {
    const base = index * PLAIN_CHUNK;
    return chunk.subarray(Math.max(0, start - base), Math.min(chunk.length, end - base + 1));
  };
  let emitted = first;
  return new Readable({
    async read() {
      try {
        if (ready.length === 0) {
          if (next > last) return void this.push(null);
          const upTo = Math.min(last, next + BATCH - 1);
          ready = await openChunks(cipher, fh, keys, plain, next, upTo);
          next = upTo + 1;
        }
        const chunk = ready.shift()!;
        this.push(slice(emitted++, chunk));
      } catch (err) {
        this.destroy(err as Error);
      }
    },
    destroy(err, done) {
      fh.close().then(
        () => done(err),
        () => done(err),
      );
    },
  });
}

/** Decrypts a whole sealed file to learn its plaintext size and SHA-256 (for a sidecar rebuilt from the data). */
export async function hashSealed(cipher: LocalCipher, fh: FileHandle, diskSize: number): Promise<{ size: number; sha256: string }> {
  const plain = plainSizeOf(diskSize);
  if (plain === undefined) throw tampered();
  const keys = cipher.openHeader(await readExactly(fh, 0, HEADER_BYTES));
  const hash = createHash('sha256');
  const chunks = chunkCount(plain);
  for (let i = 0; i < chunks; i += BATCH) {
    for (const chunk of await openChunks(cipher, fh, keys, plain, i, Math.min(chunks - 1, i + BATCH - 1))) hash.update(chunk);
  }
  return { size: plain, sha256: hash.digest('hex') };
}
