import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confinedJoin } from '../../../src/backends/local/paths.js';
import { StorageError } from '../../../src/core/errors.js';
import { bodyOf, expectCode } from '../../conformance/helpers.js';
import { type TempBucket, snapshotTree, tempBucket } from './fixture.js';

/** Hostile keys, as they might arrive after URL decoding. */
const HOSTILE: string[] = [
  '../x',
  '../../x',
  'a/../../x',
  'uploads/../../x',
  'uploads/a/../../../x',
  decodeURIComponent('%2e%2e/x'),
  decodeURIComponent('uploads/%2e%2e/%2e%2e/x'),
  decodeURIComponent('uploads/..%2f..%2fx'),
  '/etc/passwd',
  '/tmp/x',
  'uploads/../../../../../../etc/passwd',
  'uploads\\..\\x',
  'uploads\\..\\..\\x',
  '..\\x',
  'uploads/x\u0000.txt',
  'uploads/\u0000/../../x',
  'uploads/x\r\n',
  'uploads/\u001b[31m',
  'uploads/\u0085',
  `uploads/${'a'.repeat(1020)}`,
  'unknown/x',
  '.bucketgate/meta/x',
  'uploads/.bg-tmp-1-x',
  '.',
  '..',
  'uploads/.',
  'uploads/..',
  '',
];

describe('local backend: traversal keys', () => {
  let bucket: TempBucket;
  let before: string[];
  beforeAll(async () => {
    bucket = await tempBucket();
    await bucket.backend.put('uploads/inside.txt', bodyOf('inside'));
    before = await snapshotTree(bucket.parent);
  });
  afterAll(() => bucket.cleanup());

  it.each(HOSTILE.map((k) => [JSON.stringify(k).slice(0, 60), k]))('refuses %s on every operation', async (_label, key) => {
    const b = bucket.backend;
    await expectCode(b.put(key, bodyOf('evil')), 'InvalidKey');
    await expectCode(b.get(key), 'InvalidKey');
    await expectCode(b.head(key), 'InvalidKey');
    await expectCode(b.delete(key), 'InvalidKey');
    await expectCode(b.copy('uploads/inside.txt', key), 'InvalidKey');
    await expectCode(b.copy(key, 'uploads/copy.txt'), 'InvalidKey');
    await expectCode(b.move('uploads/inside.txt', key), 'InvalidKey');
    await expectCode(b.move(key, 'uploads/moved.txt'), 'InvalidKey');
    expect((await b.deleteMany([key])).errors[0]?.code).toBe('InvalidKey');
  });

  it('refuses hostile list prefixes', async () => {
    for (const prefix of ['../', 'uploads/../', '/etc/', 'uploads\\..\\', 'uploads/\u0000', 'unknown/']) {
      await expectCode(bucket.backend.list(prefix), 'InvalidKey');
    }
  });

  it('created, changed or removed nothing anywhere', async () => {
    expect(await snapshotTree(bucket.parent)).toEqual(before);
  });

  it('the confined join refuses anything that resolves outside the root', () => {
    const root = bucket.root;
    for (const parts of [['..'], ['..', 'x'], ['a', '..', '..', 'x'], ['/etc/passwd'], [''], ['.']]) {
      expect(() => confinedJoin(root, ...parts), parts.join('|')).toThrow(StorageError);
    }
    expect(confinedJoin(root, 'uploads', 'a.txt')).toBe(`${root}/uploads/a.txt`);
  });

  it('never shows host paths in error messages', async () => {
    const errors = await Promise.all([
      bucket.backend.get('uploads/missing').catch((e: unknown) => e),
      bucket.backend.head('uploads/a/b/missing').catch((e: unknown) => e),
      bucket.backend.copy('uploads/missing', 'uploads/x').catch((e: unknown) => e),
      bucket.backend.move('uploads/missing', 'uploads/x').catch((e: unknown) => e),
    ]);
    for (const err of errors) {
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).message).not.toContain(bucket.parent);
      expect(JSON.stringify((err as StorageError).cause ?? {})).not.toContain(bucket.parent);
    }
  });
});
