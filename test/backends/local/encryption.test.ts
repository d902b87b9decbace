import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HEADER_BYTES, LocalCipher, PLAIN_CHUNK, plainSizeOf, sealedSize } from '../../../src/backends/local/encryption.js';
import { bodyOf, expectCode, getBytes, readAll, sha256 } from '../../conformance/helpers.js';
import { type TempBucket, tempBucket } from './fixture.js';

const KEY = 'uploads/sealed/file.bin';
const SIDECAR = '.bucketgate/meta/uploads/sealed.d/file.bin.json';
const SEALED = PLAIN_CHUNK + 16;
const run = promisify(execFile);

describe('local backend: encryption at rest', () => {
  let bucket: TempBucket;
  const key = randomBytes(32);
  const dataPath = () => join(bucket.root, 'uploads/sealed/file.bin');
  /** Overwrites bytes in place and puts the mtime back, as a careful attacker would. */
  const patch = async (position: number, bytes: Buffer) => {
    const before = await stat(dataPath(), { bigint: true });
    const mtimeMs = (await stat(dataPath())).mtimeMs;
    const fh = await open(dataPath(), 'r+');
    await fh.write(bytes, 0, bytes.length, position);
    await fh.close();
    // Nanosecond precision (utimes rounds): the sidecar must still describe the file.
    const ns = before.mtimeNs;
    await run('touch', ['-m', '-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, dataPath()]);
    expect((await stat(dataPath())).mtimeMs).toBe(mtimeMs);
  };
  beforeEach(async () => {
    bucket = await tempBucket({ encryptionKey: key });
  });
  afterEach(() => bucket.cleanup());

  it('sizes sealed files exactly, both ways', () => {
    for (const plain of [0, 1, PLAIN_CHUNK - 1, PLAIN_CHUNK, PLAIN_CHUNK + 1, 3 * PLAIN_CHUNK, 10_000_000]) {
      expect(plainSizeOf(sealedSize(plain))).toBe(plain);
    }
    expect(plainSizeOf(HEADER_BYTES + 5)).toBeUndefined();
  });

  it('stores no plaintext, keeps the plaintext size and SHA-256 in the sidecar, and reads back', async () => {
    const data = Buffer.from('a recognisable plaintext sentence '.repeat(5000));
    const info = await bucket.backend.put(KEY, bodyOf(data), { contentType: 'text/plain' });
    expect(info).toMatchObject({ size: data.length, sha256: sha256(data) });
    const disk = await readFile(dataPath());
    expect(disk.length).toBe(sealedSize(data.length));
    expect(disk.includes('recognisable')).toBe(false);
    const sidecar = JSON.parse(await readFile(join(bucket.root, SIDECAR), 'utf8'));
    expect(sidecar).toMatchObject({ size: data.length, sha256: sha256(data), enc: 'aes-256-gcm-64k-v1', diskSize: disk.length });
    expect(typeof sidecar.mac).toBe('string');
    expect((await getBytes(bucket.backend, KEY)).equals(data)).toBe(true);
    expect(bucket.backend.capabilities.serverSideEncryption).toBe(true);
  });

  it('decrypts only the chunks a range touches', async () => {
    const data = randomBytes(40 * PLAIN_CHUNK + 123);
    await bucket.backend.put(KEY, bodyOf(data));
    const opened = vi.spyOn(LocalCipher.prototype, 'open');
    const start = 37 * PLAIN_CHUNK - 5;
    const got = await bucket.backend.get(KEY, { range: { start, end: start + 9 } });
    expect((await readAll(got.body)).equals(data.subarray(start, start + 10))).toBe(true);
    expect(opened).toHaveBeenCalledTimes(2);
    opened.mockRestore();
  });

  it('refuses a flipped byte with ChecksumMismatch before serving anything', async () => {
    await bucket.backend.put(KEY, bodyOf(randomBytes(3 * PLAIN_CHUNK)));
    await patch(HEADER_BYTES + 10, Buffer.from([0x42 ^ 0xff]));
    await expectCode(bucket.backend.get(KEY), 'ChecksumMismatch');
  });

  it('stops a stream at a tampered later chunk, never giving out its bytes', async () => {
    const data = randomBytes(3 * PLAIN_CHUNK);
    await bucket.backend.put(KEY, bodyOf(data));
    await patch(HEADER_BYTES + 2 * SEALED + 7, Buffer.from('X'));
    await expectCode(bucket.backend.get(KEY, { range: { start: 2 * PLAIN_CHUNK } }), 'ChecksumMismatch');
    const whole = await bucket.backend.get(KEY);
    const received: Buffer[] = [];
    await expect(
      (async () => {
        for await (const chunk of whole.body) received.push(chunk as Buffer);
      })(),
    ).rejects.toMatchObject({ code: 'ChecksumMismatch' });
    expect(Buffer.concat(received).length).toBeLessThanOrEqual(2 * PLAIN_CHUNK);
  });

  it('refuses swapped chunks, a dropped tail and appended bytes', async () => {
    const data = randomBytes(3 * PLAIN_CHUNK);
    await bucket.backend.put(KEY, bodyOf(data));
    const disk = await readFile(dataPath());
    const chunk = (i: number) => disk.subarray(HEADER_BYTES + i * SEALED, HEADER_BYTES + (i + 1) * SEALED);
    await patch(HEADER_BYTES, Buffer.concat([chunk(1), chunk(0)]));
    await expectCode(bucket.backend.get(KEY), 'ChecksumMismatch');
    await writeFile(dataPath(), disk.subarray(0, HEADER_BYTES + 2 * SEALED)); // the last chunk dropped
    await expectCode(bucket.backend.get(KEY), 'ChecksumMismatch');
    await expectCode(bucket.backend.head(KEY), 'ChecksumMismatch');
    await writeFile(dataPath(), Buffer.concat([disk, Buffer.alloc(20)]));
    await expectCode(bucket.backend.get(KEY), 'ChecksumMismatch');
    await truncate(dataPath(), 0);
    await expectCode(bucket.backend.get(KEY), 'ChecksumMismatch');
  });

  it('does not believe an edited sidecar, and refuses a plaintext file dropped in by hand', async () => {
    await bucket.backend.put(KEY, bodyOf('content'), { contentType: 'text/plain' });
    const path = join(bucket.root, SIDECAR);
    const sidecar = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...sidecar, contentType: 'text/html' }));
    // Rebuilt from the (authentic) data: the forged content type is gone.
    expect((await bucket.backend.head(KEY)).contentType).toBe('application/octet-stream');
    await writeFile(dataPath(), 'plain bytes by hand');
    await expectCode(bucket.backend.get(KEY), 'ChecksumMismatch');
  });

  it('refuses to open the bucket with another key, or with none', async () => {
    await bucket.backend.put(KEY, bodyOf('content'));
    await expect(bucket.reopen({ encryptionKey: randomBytes(32) })).rejects.toMatchObject({ code: 'ConfigInvalid', message: expect.stringContaining('BHIV_ENCRYPTION_KEY') });
    await expect(bucket.reopen({ encryptionKey: undefined })).rejects.toMatchObject({ code: 'ConfigInvalid' });
    const again = await bucket.reopen({ encryptionKey: key });
    expect((await getBytes(again, KEY)).toString()).toBe('content');
  });

  it('never shows its key: not through inspect, JSON or the backend object', async () => {
    const { inspect } = await import('node:util');
    const hex = key.toString('hex');
    const b64 = key.toString('base64');
    for (const text of [inspect(bucket.backend, { depth: 10, showHidden: true }), JSON.stringify(bucket.backend)]) {
      expect(text).not.toContain(hex);
      expect(text).not.toContain(b64);
      expect(text).not.toMatch(/<Buffer( [0-9a-f]{2}){32}/);
    }
  });

  it('still refuses with its marker lost: the encrypted objects say which key the bucket has', async () => {
    await bucket.backend.put(KEY, bodyOf('content'), { contentType: 'text/plain', metadata: { k: 'v' } });
    const marker = join(bucket.root, '.bucketgate/encryption.json');
    const sidecar = await readFile(join(bucket.root, SIDECAR), 'utf8');
    await rm(marker);
    await expect(bucket.reopen({ encryptionKey: undefined })).rejects.toMatchObject({ code: 'ConfigInvalid', message: expect.stringContaining('encrypted at rest') });
    await expect(bucket.reopen({ encryptionKey: randomBytes(32) })).rejects.toMatchObject({ code: 'ConfigInvalid', message: expect.stringContaining('another key') });
    // Neither attempt wrote a marker for the wrong key nor touched the object's sidecar.
    await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(bucket.root, SIDECAR), 'utf8')).toBe(sidecar);
    const again = await bucket.reopen({ encryptionKey: key });
    expect((await getBytes(again, KEY)).toString()).toBe('content');
    expect(await again.head(KEY)).toMatchObject({ contentType: 'text/plain', metadata: { k: 'v' } });
    expect(JSON.parse(await readFile(marker, 'utf8')).keyId).toBeTruthy();
  });
});
