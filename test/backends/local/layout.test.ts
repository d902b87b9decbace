import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyOf, expectCode, failingBody, getBytes, sha256, untouchedBody } from '../../conformance/helpers.js';
import { type TempBucket, filesUnder, snapshotTree, tempBucket } from './fixture.js';

describe('local backend: files on disk', () => {
  let bucket: TempBucket;
  beforeEach(async () => {
    bucket = await tempBucket();
  });
  afterEach(() => bucket.cleanup());

  it('keeps each object as a plain file at <root>/<key>, with a sidecar beside it in .bucketgate/meta', async () => {
    await bucket.backend.put('uploads/pics/a.png', bodyOf('PNG bytes'), { contentType: 'image/png', metadata: { by: 'me' } });
    expect(await readFile(join(bucket.root, 'uploads/pics/a.png'), 'utf8')).toBe('PNG bytes');
    const sidecar = JSON.parse(await readFile(join(bucket.root, '.bucketgate/meta/uploads/pics.d/a.png.json'), 'utf8'));
    const st = await stat(join(bucket.root, 'uploads/pics/a.png'));
    expect(sidecar).toMatchObject({ size: 9, sha256: sha256('PNG bytes'), contentType: 'image/png', metadata: { by: 'me' }, ino: st.ino });
  });

  it('keeps the sidecars of `a` and `a.json/b` apart', async () => {
    await bucket.backend.put('uploads/a', bodyOf('A'), { contentType: 'text/a' });
    await bucket.backend.put('uploads/a.json/b', bodyOf('B'), { contentType: 'text/b' });
    expect((await bucket.backend.head('uploads/a')).contentType).toBe('text/a');
    expect((await bucket.backend.head('uploads/a.json/b')).contentType).toBe('text/b');
  });

  it('removes folders a delete leaves empty, but keeps the segment folder', async () => {
    await bucket.backend.put('uploads/x/y/z/file.txt', bodyOf('f'));
    await bucket.backend.put('uploads/x/other.txt', bodyOf('o'));
    await bucket.backend.delete('uploads/x/y/z/file.txt');
    expect(await filesUnder(bucket.root)).toContain('uploads/x/other.txt');
    await expect(stat(join(bucket.root, 'uploads/x/y'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(bucket.root, '.bucketgate/meta/uploads/x.d/y.d'))).rejects.toMatchObject({ code: 'ENOENT' });
    await bucket.backend.delete('uploads/x/other.txt');
    await expect(stat(join(bucket.root, 'uploads/x'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(join(bucket.root, 'uploads'))).isDirectory()).toBe(true);
  });

  it('refuses a key whose folder is an object, and an object where a folder is', async () => {
    await bucket.backend.put('uploads/a', bodyOf('file'));
    await expectCode(bucket.backend.put('uploads/a/b', bodyOf('under a file')), 'AlreadyExists');
    await bucket.backend.put('uploads/d/e', bodyOf('in a folder'));
    await expectCode(bucket.backend.put('uploads/d', bodyOf('over a folder')), 'AlreadyExists');
    await expectCode(bucket.backend.head('uploads/d'), 'NotFound');
    expect(await filesUnder(join(bucket.root, 'uploads'))).toEqual(['a', 'd/e']);
  });

  it('refuses a key part too long for a file name with InvalidKey, before reading the body', async () => {
    const { body, touched } = untouchedBody();
    await expectCode(bucket.backend.put(`uploads/${'n'.repeat(251)}`, body), 'InvalidKey');
    expect(touched()).toBe(false);
    await expectCode(bucket.backend.get(`uploads/${'é'.repeat(126)}/x`), 'InvalidKey');
    const ok = await bucket.backend.put(`uploads/${'n'.repeat(250)}`, bodyOf('fits'));
    expect(ok.size).toBe(4);
  });

  it('blames the body, not the disk, for a body that fails', async () => {
    await expectCode(bucket.backend.put('uploads/cut', failingBody(1000)), 'InvalidArgument');
    const aborted = new AbortController();
    aborted.abort();
    await expectCode(bucket.backend.put('uploads/aborted', bodyOf('x'), { signal: aborted.signal }), 'InvalidArgument');
    await expectCode(bucket.backend.put('uploads/long', bodyOf('12345'), { contentLength: 3 }), 'InvalidArgument');
  });

  it('leaves no temp files after failed writes', async () => {
    await expectCode(bucket.backend.put('uploads/t/big', bodyOf(Buffer.alloc(5000)), { maxBytes: 10 }), 'TooLarge');
    await expectCode(bucket.backend.put('uploads/t/sum', bodyOf('x'), { sha256: sha256('y') }), 'ChecksumMismatch');
    await bucket.backend.put('uploads/t/ok', bodyOf('ok'));
    await expectCode(bucket.backend.put('uploads/t/ok', bodyOf('again'), { ifNoneMatch: '*' }), 'AlreadyExists');
    const files = await filesUnder(bucket.root);
    expect(files.filter((f) => f.includes('.bg-tmp-'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('uploads/'))).toEqual(['uploads/t/ok']);
    // Nor the folders a refused write made for itself, data or sidecar.
    const before = await snapshotTree(bucket.root);
    await expectCode(bucket.backend.put('uploads/new/deep/cut', failingBody(1000)), 'InvalidArgument');
    await expectCode(bucket.backend.put('uploads/other/deep/sum', bodyOf('x'), { sha256: sha256('y') }), 'ChecksumMismatch');
    expect(await snapshotTree(bucket.root)).toEqual(before);
  });

  it('does not list or serve folders, FIFOs or files no key can name', async () => {
    await mkdir(join(bucket.root, 'uploads/dir'));
    await promisify(execFile)('mkfifo', [join(bucket.root, 'uploads/pipe')]);
    await writeFile(join(bucket.root, 'uploads/.bg-tmp-9-x'), 'temp');
    await writeFile(join(bucket.root, 'uploads/cafe\u0301'), 'NFD name');
    await writeFile(join(bucket.root, 'uploads/ok'), 'ok');
    await writeFile(join(bucket.root, 'stray-at-root'), 'not a key');
    const page = await bucket.backend.list('');
    expect(page.objects.map((o) => o.key)).toEqual(['uploads/ok']);
    expect((await bucket.backend.list('', { delimiter: '/' })).prefixes).toEqual(['uploads/']);
    await expectCode(bucket.backend.get('uploads/dir'), 'NotFound');
    await expectCode(bucket.backend.get('uploads/pipe'), 'NotFound');
  });

  it('lists a segment with objects only in sub-folders as a common prefix, and skips empty folders', async () => {
    await bucket.backend.put('videos/a/b/c.mp4', bodyOf('v'));
    await mkdir(join(bucket.root, 'videos/empty/deeper'), { recursive: true });
    const page = await bucket.backend.list('videos/', { delimiter: '/' });
    expect(page.prefixes).toEqual(['videos/a/']);
    expect((await bucket.backend.list('', { delimiter: '/' })).prefixes).toEqual(['videos/']);
  });

  it('serves a big file through a large-chunk stream', async () => {
    const data = Buffer.alloc(4 * 1024 * 1024 + 1, 9);
    await bucket.backend.put('uploads/big', bodyOf(data, 1 << 20));
    const got = await bucket.backend.get('uploads/big');
    expect(got.body.readableHighWaterMark).toBeGreaterThanOrEqual(1 << 20);
    expect((await getBytes(bucket.backend, 'uploads/big')).equals(data)).toBe(true);
    got.body.destroy();
  });
});
