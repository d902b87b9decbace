import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { etagFromSha256 } from '../../../src/core/streams.js';
import { bodyOf, getBytes, sha256 } from '../../conformance/helpers.js';
import { type TempBucket, tempBucket } from './fixture.js';

const SIDECAR = '.bucketgate/meta/uploads/in.d/file.txt.json';

describe('local backend: missing and stale sidecars', () => {
  let bucket: TempBucket;
  const dataPath = () => join(bucket.root, 'uploads/in/file.txt');
  const sidecarPath = () => join(bucket.root, SIDECAR);
  beforeEach(async () => {
    bucket = await tempBucket();
  });
  afterEach(() => bucket.cleanup());

  it('serves a file dropped in by hand as octet-stream, hashing it on head and writing its sidecar', async () => {
    await bucket.backend.put('uploads/in/other', bodyOf('make the folder'));
    await writeFile(dataPath(), 'by hand');
    const listed = (await bucket.backend.list('uploads/in/')).objects.find((o) => o.key === 'uploads/in/file.txt');
    expect(listed).toMatchObject({ size: 7, contentType: 'application/octet-stream' });
    const head = await bucket.backend.head('uploads/in/file.txt');
    expect(head).toMatchObject({ size: 7, contentType: 'application/octet-stream', sha256: sha256('by hand'), etag: etagFromSha256(sha256('by hand')), metadata: {} });
    expect(JSON.parse(await readFile(sidecarPath(), 'utf8'))).toMatchObject({ sha256: sha256('by hand'), size: 7 });
    expect((await getBytes(bucket.backend, 'uploads/in/file.txt')).toString()).toBe('by hand');
  });

  it('ignores a sidecar left by a crash between the two renames (other inode)', async () => {
    await bucket.backend.put('uploads/in/file.txt', bodyOf('old bytes'), { contentType: 'text/plain', metadata: { v: 'old' } });
    // A new data file renamed into place, its sidecar never written.
    await writeFile(join(bucket.root, 'uploads/in/new'), 'new bytes');
    await rename(join(bucket.root, 'uploads/in/new'), dataPath());
    const got = await bucket.backend.get('uploads/in/file.txt');
    expect(got.info).toMatchObject({ contentType: 'application/octet-stream', sha256: sha256('new bytes'), metadata: {} });
    expect((await getBytes(bucket.backend, 'uploads/in/file.txt')).toString()).toBe('new bytes');
    got.body.destroy();
  });

  it('notices a file changed in place (size differs)', async () => {
    await bucket.backend.put('uploads/in/file.txt', bodyOf('v1'), { contentType: 'text/plain' });
    await appendFile(dataPath(), ' and more');
    const head = await bucket.backend.head('uploads/in/file.txt');
    expect(head).toMatchObject({ size: 11, sha256: sha256('v1 and more'), contentType: 'application/octet-stream' });
  });

  it('treats a corrupt or missing sidecar as missing', async () => {
    await bucket.backend.put('uploads/in/file.txt', bodyOf('content'), { contentType: 'text/plain' });
    await writeFile(sidecarPath(), '{ not json');
    expect((await bucket.backend.head('uploads/in/file.txt')).sha256).toBe(sha256('content'));
    await rm(sidecarPath());
    expect((await bucket.backend.head('uploads/in/file.txt')).sha256).toBe(sha256('content'));
  });

  it('copies and moves a file whose sidecar was stale, with its real hash', async () => {
    await bucket.backend.put('uploads/in/other', bodyOf('x'));
    await writeFile(dataPath(), 'hand made');
    const copied = await bucket.backend.copy('uploads/in/file.txt', 'uploads/copy.txt');
    expect(copied.sha256).toBe(sha256('hand made'));
    const moved = await bucket.backend.move('uploads/in/file.txt', 'uploads/moved.txt');
    expect(moved.sha256).toBe(sha256('hand made'));
    expect((await bucket.backend.head('uploads/moved.txt')).sha256).toBe(sha256('hand made'));
  });

  it('keeps the sidecar valid through a move (same inode)', async () => {
    await bucket.backend.put('uploads/in/file.txt', bodyOf('keep me'), { contentType: 'text/plain', metadata: { a: 'b' } });
    await bucket.backend.move('uploads/in/file.txt', 'uploads/elsewhere/file.txt');
    const moved = JSON.parse(await readFile(join(bucket.root, '.bucketgate/meta/uploads/elsewhere.d/file.txt.json'), 'utf8'));
    expect(moved).toMatchObject({ contentType: 'text/plain', metadata: { a: 'b' } });
    await expect(readFile(sidecarPath())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('bounds user metadata (size, names) and leaves the old object as it was when refused', async () => {
    await bucket.backend.put('uploads/in/file.txt', bodyOf('v1'), { metadata: { a: 'b' } });
    for (const metadata of [{ '': 'x' }, JSON.parse('{"__proto__":"x"}'), { big: 'x'.repeat(9000) }, Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, 'vvvv']))]) {
      await expect(bucket.backend.put('uploads/in/file.txt', bodyOf('v2'), { metadata })).rejects.toMatchObject({ code: 'InvalidArgument' });
    }
    expect((await getBytes(bucket.backend, 'uploads/in/file.txt')).toString()).toBe('v1');
    expect((await bucket.backend.head('uploads/in/file.txt')).metadata).toEqual({ a: 'b' });
    await bucket.backend.put('uploads/in/file.txt', bodyOf('v3'), { metadata: { 'line\nbreak': 'ok', spaced: ' x ' } });
    expect((await bucket.backend.head('uploads/in/file.txt')).metadata).toEqual({ 'line\nbreak': 'ok', spaced: ' x ' });
  });
});
