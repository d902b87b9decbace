import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../../src/backends/local/index.js';
import type { LocalBackend } from '../../../src/backends/local/index.js';
import { bodyOf, expectCode, getBytes } from '../../conformance/helpers.js';
import { filesUnder } from './fixture.js';

const run = promisify(execFile);

/**
 * A real full disk: a 2 MiB tmpfs. Mounting needs root (as in the CI container); elsewhere
 * the group is skipped rather than faked.
 */
describe('local backend: a full disk', () => {
  let mountPoint: string;
  let mounted = false;
  let backend: LocalBackend;

  beforeAll(async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'bucketgate-full-'));
    // As test/resilience/shutdown-diskfull.test.ts: without a small file system to fill, the one
    // InsufficientStorage test of the backend would be skipped unnoticed, so this fails instead.
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]).catch((err: unknown) => {
      throw new Error(`mounting a tmpfs needs root (mount -t tmpfs): ${String(err)}`);
    });
    mounted = true;
    backend = await createLocalBackend({ root: join(mountPoint, 'bucket') });
  });

  afterAll(async () => {
    if (mounted) await run('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('reports InsufficientStorage, keeps the old version and leaves no temp file', async () => {
    await backend.put('uploads/doc.txt', bodyOf('the old version'));
    const err = await expectCode(backend.put('uploads/doc.txt', bodyOf(Buffer.alloc(4 * 1024 * 1024, 1))), 'InsufficientStorage');
    expect(err.message).not.toContain(mountPoint);
    expect((await getBytes(backend, 'uploads/doc.txt')).toString()).toBe('the old version');
    expect((await filesUnder(join(mountPoint, 'bucket'))).filter((f) => f.includes('.bg-tmp-'))).toEqual([]);
    // Space is back once the failed upload is gone.
    await backend.put('uploads/small.txt', bodyOf('fits'));
  });
});
