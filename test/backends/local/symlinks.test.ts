import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyOf, expectCode, expectStorageError, getBytes } from '../../conformance/helpers.js';
import { type TempBucket, snapshotTree, tempBucket } from './fixture.js';

describe('local backend: symlinks inside the root are never followed', () => {
  let bucket: TempBucket;
  let outside: string;
  beforeEach(async () => {
    bucket = await tempBucket();
    outside = join(bucket.parent, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'top secret');
  });
  afterEach(() => bucket.cleanup());

  it('a symlinked folder cannot be read, written, listed or deleted through', async () => {
    await symlink(outside, join(bucket.root, 'uploads/link'));
    const before = await snapshotTree(outside);
    await expectCode(bucket.backend.get('uploads/link/secret.txt'), 'Forbidden');
    await expectCode(bucket.backend.head('uploads/link/secret.txt'), 'Forbidden');
    await expectCode(bucket.backend.put('uploads/link/new.txt', bodyOf('planted')), 'Forbidden');
    await expectStorageError(bucket.backend.delete('uploads/link/secret.txt'));
    await expectStorageError(bucket.backend.copy('uploads/link/secret.txt', 'uploads/stolen.txt'));
    await expectStorageError(bucket.backend.move('uploads/link/secret.txt', 'uploads/stolen.txt'));
    expect((await bucket.backend.list('uploads/')).objects).toEqual([]);
    expect((await bucket.backend.list('uploads/link/')).objects).toEqual([]);
    expect(await snapshotTree(outside)).toEqual(before);
    await expectCode(bucket.backend.head('uploads/stolen.txt'), 'NotFound');
  });

  it('a symlinked file is not served, and writing its key replaces the link, not the target', async () => {
    await symlink(join(outside, 'secret.txt'), join(bucket.root, 'uploads/file-link'));
    await expectCode(bucket.backend.get('uploads/file-link'), 'Forbidden');
    await expectCode(bucket.backend.head('uploads/file-link'), 'Forbidden');
    expect((await bucket.backend.list('uploads/')).objects).toEqual([]);
    await bucket.backend.put('uploads/file-link', bodyOf('replaced'));
    expect((await getBytes(bucket.backend, 'uploads/file-link')).toString()).toBe('replaced');
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
  });

  it('a symlinked segment folder is refused', async () => {
    await rm(join(bucket.root, 'videos'), { recursive: true });
    await symlink(outside, join(bucket.root, 'videos'));
    const before = await snapshotTree(outside);
    const again = await bucket.reopen();
    await expectCode(again.put('videos/x.mp4', bodyOf('v')), 'Forbidden');
    await expectCode(again.get('videos/secret.txt'), 'Forbidden');
    expect((await again.list('videos/')).objects).toEqual([]);
    expect(await snapshotTree(outside)).toEqual(before);
  });

  it('a symlink planted in the sidecar tree is not written through', async () => {
    await mkdir(join(bucket.root, '.bucketgate/meta'), { recursive: true });
    await symlink(outside, join(bucket.root, '.bucketgate/meta/logs'));
    const before = await snapshotTree(outside);
    await expectStorageError(bucket.backend.put('logs/a.log', bodyOf('log')));
    await expectCode(bucket.backend.head('logs/a.log'), 'NotFound');
    expect(await snapshotTree(outside)).toEqual(before);
  });
});
