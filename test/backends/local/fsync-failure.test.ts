import { open } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { bodyOf, expectCode, getBytes } from '../../conformance/helpers.js';
import { type TempBucket, filesUnder, tempBucket } from './fixture.js';

/**
 * The final fsync of a put runs while the sidecar is being written (write.ts): when it fails
 * (EIO: the disk lost the bytes), the put fails, the old version and its sidecar stay, and
 * neither temp file is left. A real EIO cannot be had on demand, so FileHandle.sync fails here.
 */
describe('local backend: a failed final fsync', () => {
  let bucket: TempBucket;
  let fileHandleProto: { sync(): Promise<void> };
  beforeAll(async () => {
    bucket = await tempBucket();
    const fh = await open(bucket.root, 'r');
    fileHandleProto = Object.getPrototypeOf(fh) as { sync(): Promise<void> };
    await fh.close();
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => bucket.cleanup());

  // The data file's fsync is the put's first FileHandle.sync (write-behind flushes use
  // datasync); the sidecar temp's is the second. Each fails once, the other succeeding.
  it.each([
    ['data file', 'small', 1, 10],
    ['data file', 'multi-MiB (write-behind flushes running)', 1, 20 * 1024 * 1024],
    ['sidecar temp', 'small', 2, 10],
    ['sidecar temp', 'multi-MiB', 2, 20 * 1024 * 1024],
  ])('of the %s, %s body: the put fails, the old version and its sidecar stay, no temp is left', async (_which, _label, failing, size) => {
    const { backend, root } = bucket;
    const key = `uploads/fsync-${failing}-${size}.bin`;
    await backend.put(key, bodyOf('the old version'), { contentType: 'text/plain' });
    const realSync = fileHandleProto.sync;
    let calls = 0;
    const sync = vi.spyOn(fileHandleProto, 'sync').mockImplementation(function (this: unknown) {
      if (++calls === failing) return Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', errno: -5, syscall: 'fsync' }));
      return realSync.call(this);
    });
    await expectCode(backend.put(key, bodyOf(Buffer.alloc(size, 7)), { contentType: 'application/octet-stream' }), 'BackendUnavailable');
    expect(calls).toBeGreaterThanOrEqual(failing);
    sync.mockRestore();
    expect((await getBytes(backend, key)).toString()).toBe('the old version');
    expect((await backend.head(key)).contentType).toBe('text/plain');
    expect((await filesUnder(root)).filter((f) => f.includes('.bg-tmp-'))).toEqual([]);
  });
});
