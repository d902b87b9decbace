import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../../src/backends/local/index.js';
import { DEFAULT_SEGMENTS, KeyRules } from '../../../src/core/keys.js';
import { bodyOf, getBytes } from '../../conformance/helpers.js';
import { type TempBucket, filesUnder, tempBucket } from './fixture.js';

describe('local backend: start-up', () => {
  let bucket: TempBucket | undefined;
  afterEach(async () => bucket?.cleanup());

  it('creates the root and the guide\'s folders on first start', async () => {
    bucket = await tempBucket();
    const made = await createLocalBackend({ root: join(bucket.parent, 'fresh', 'nested') });
    const names = await readdir(join(bucket.parent, 'fresh', 'nested'));
    expect(names.sort()).toEqual([...DEFAULT_SEGMENTS, '.bucketgate'].sort());
    expect(made.kind).toBe('local');
    for (const segment of DEFAULT_SEGMENTS) expect((await stat(join(made.root, segment))).isDirectory()).toBe(true);
  });

  it('creates the folders of configured segments', async () => {
    bucket = await tempBucket();
    const custom = await createLocalBackend({ root: join(bucket.parent, 'custom'), keys: new KeyRules(['media', 'docs']) });
    expect((await readdir(custom.root)).sort()).toEqual(['.bucketgate', 'docs', 'media']);
  });

  it('refuses an empty root setting with ConfigInvalid', async () => {
    await expect(createLocalBackend({ root: '' })).rejects.toMatchObject({ code: 'ConfigInvalid' });
  });

  it('removes temp files a crash left behind, and nothing else', async () => {
    bucket = await tempBucket();
    const { root } = bucket;
    await bucket.backend.put('uploads/deep/keep.txt', bodyOf('keep'));
    await mkdir(join(root, 'videos/a/b'), { recursive: true });
    const leftovers = [
      `uploads/.bg-tmp-${process.pid}-abc`, // this process: a previous backend's
      'uploads/deep/.bg-tmp-999999999-def',
      'videos/a/b/.bg-tmp-garbage',
      '.bucketgate/meta/uploads/.bg-tmp-99999998-x',
      '.bucketgate/.bg-tmp-99999997-probe', // pids above pid_max: long dead,
    ];
    for (const rel of leftovers) {
      await mkdir(join(root, rel, '..'), { recursive: true });
      await writeFile(join(root, rel), 'partial upload');
    }
    // Not ours: the catalog and a file a user dropped in.
    await writeFile(join(root, '.bucketgate/catalog.sqlite'), 'db');
    await writeFile(join(root, 'uploads/deep/notes.bg-tmp-1-x'), 'a user file');
    await bucket.reopen();
    const files = await filesUnder(root);
    for (const rel of leftovers) expect(files).not.toContain(rel);
    expect(files).toContain('uploads/deep/keep.txt');
    expect(files).toContain('.bucketgate/catalog.sqlite');
    expect(files).toContain('uploads/deep/notes.bg-tmp-1-x');
  });

  it('spares the temp files of another live process sharing the bucket', async () => {
    bucket = await tempBucket();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const inFlight = join(bucket.root, `uploads/.bg-tmp-${child.pid}-inflight`);
      await writeFile(inFlight, 'still uploading');
      await bucket.reopen();
      expect(await filesUnder(bucket.root)).toContain(`uploads/.bg-tmp-${child.pid}-inflight`);
    } finally {
      child.kill();
    }
  });

  it('spares the temps of an upload in flight in this process when another backend opens the folder', async () => {
    bucket = await tempBucket();
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(1000, 1));
    const writing = bucket.backend.put('uploads/inflight.bin', body);
    // The upload's temp is on disk and its body not yet over: open a second backend on the folder.
    for (let i = 0; i < 100 && !(await filesUnder(bucket.root)).some((f) => f.startsWith('uploads/.bg-tmp-')); i++) await new Promise((r) => setTimeout(r, 10));
    const second = await createLocalBackend({ root: bucket.root });
    expect((await filesUnder(bucket.root)).some((f) => f.startsWith('uploads/.bg-tmp-'))).toBe(true);
    body.push(null);
    expect((await writing).size).toBe(1000);
    expect((await getBytes(second, 'uploads/inflight.bin')).length).toBe(1000);
    await second.close();
  });

  it('does not follow a segment folder that is a symbolic link when it sweeps temps', async () => {
    bucket = await tempBucket();
    const outside = join(bucket.parent, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, '.bg-tmp-99999996-x'), 'not ours');
    await rm(join(bucket.root, 'logs'), { recursive: true });
    await symlink(outside, join(bucket.root, 'logs'));
    await bucket.reopen().catch(() => undefined);
    expect(await readdir(outside)).toEqual(['.bg-tmp-99999996-x']);
  });

  it('serves what an earlier instance stored after a restart', async () => {
    bucket = await tempBucket();
    await bucket.backend.put('logs/2024/run.log', bodyOf('line 1\n'), { contentType: 'text/plain', metadata: { run: '7' } });
    const again = await bucket.reopen();
    expect((await getBytes(again, 'logs/2024/run.log')).toString()).toBe('line 1\n');
    expect(await again.head('logs/2024/run.log')).toMatchObject({ contentType: 'text/plain', metadata: { run: '7' } });
  });

  it('works with fsync turned off', async () => {
    bucket = await tempBucket({ fsync: false });
    await bucket.backend.put('uploads/fast.bin', bodyOf('fast'));
    expect((await getBytes(bucket.backend, 'uploads/fast.bin')).toString()).toBe('fast');
  });

  it('passes a health check that leaves no probe behind', async () => {
    bucket = await tempBucket();
    const before = await filesUnder(bucket.root);
    const report = await bucket.backend.health();
    expect(report.ok).toBe(true);
    expect(await filesUnder(bucket.root)).toEqual(before);
  });
});
