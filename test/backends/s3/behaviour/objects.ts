import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { rawClient } from '../../../servers/server.js';
import { bodyOf, expectCode, inParallel, listAll, randomName } from '../../../conformance/helpers.js';
import type { S3TestEnv } from '../env.js';
import { recordCommands } from '../tools.js';

export function describeObjects(env: () => S3TestEnv): void {
  describe('objects beyond the conformance suite', () => {
    it('deleteMany sends 1,000 keys per DeleteObjects request', async () => {
      const { backendWith } = env();
      const backend = await backendWith({});
      const dir = `uploads/dm-${randomName()}/`;
      const keys = Array.from({ length: 1003 }, (_, i) => `${dir}k${i}`);
      await inParallel(keys, 32, (key) => backend.put(key, bodyOf('x')));
      const sent = recordCommands(backend.client);
      const result = await backend.deleteMany([...keys, 'uploads/../bad']);
      expect(sent.filter((c) => c === 'DeleteObjects')).toHaveLength(2);
      expect(result.deleted).toHaveLength(1003);
      expect(result.errors).toEqual([expect.objectContaining({ key: 'uploads/../bad', code: 'InvalidKey' })]);
      expect((await listAll(backend, dir)).objects).toEqual([]);
    });

    it('a listing asked for without descriptions is one ListObjectsV2, not a HEAD per object', async () => {
      const { backendWith } = env();
      const backend = await backendWith({});
      const dir = `uploads/ls-${randomName()}/`;
      await inParallel(['a', 'b', 'c'], 3, (n) => backend.put(`${dir}${n}`, bodyOf(n)));
      const sent = recordCommands(backend.client);
      const bare = await backend.list(dir, { describe: false });
      expect(sent).toEqual(['ListObjectsV2']);
      expect(bare.objects.map((o) => [o.key, o.size])).toEqual([[`${dir}a`, 1], [`${dir}b`, 1], [`${dir}c`, 1]]);
      sent.length = 0;
      const described = await backend.list(dir);
      expect(sent.filter((c) => c === 'HeadObject')).toHaveLength(3);
      expect(described.objects.map((o) => o.sha256)).toEqual(['a', 'b', 'c'].map(() => expect.stringMatching(/^[0-9a-f]{64}$/)));
    });

    it('metadata with any names and values round-trips exactly', async () => {
      const { backend } = env();
      const key = `uploads/md-${randomName()}/x.txt`;
      const metadata = { owner: 'alice', MixedCase: 'Value', unicode: 'naïve — ✓', 'bg-like': 'mine', spaced: '  edge  ' };
      await backend.put(key, bodyOf('x'), { metadata });
      expect((await backend.head(key)).metadata).toEqual(metadata);
      const [listed] = (await backend.list(key)).objects;
      expect(listed?.metadata).toEqual(metadata);
    });

    it('listing with a delimiter leaves out folders no key of this service can be in', async () => {
      const { backend, server } = env();
      const raw = rawClient(server);
      const tag = randomName();
      try {
        for (const Key of [`foreign-${tag}/x`, `uploads/lst-${tag}/a`]) await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key, Body: 'x' }));
      } finally {
        raw.destroy();
      }
      const top = await listAll(backend, '', { delimiter: '/' });
      expect(top.prefixes).toContain('uploads/');
      expect(top.prefixes.some((p) => p.startsWith('foreign-'))).toBe(false);
      await expectCode(backend.head(`foreign-${tag}/x`), 'InvalidKey');
    });

    it('copy or move onto itself changes nothing', async () => {
      const { backend } = env();
      const key = `uploads/self-${randomName()}/a.txt`;
      const stored = await backend.put(key, bodyOf('same'), { contentType: 'text/plain', metadata: { m: '1' } });
      expect(await backend.copy(key, key)).toMatchObject({ etag: stored.etag, metadata: { m: '1' } });
      expect(await backend.move(key, key)).toMatchObject({ etag: stored.etag });
      await expectCode(backend.copy(key, key, { ifNoneMatch: '*' }), 'AlreadyExists');
      expect((await backend.head(key)).contentType).toBe('text/plain');
    });

    it('move removes the source only after the copy is whole', async () => {
      const { backend } = env();
      const dir = `uploads/mv-${randomName()}/`;
      await backend.put(`${dir}a`, bodyOf('payload'), { metadata: { m: '1' } });
      await backend.put(`${dir}b`, bodyOf('exists'));
      await expectCode(backend.move(`${dir}a`, `${dir}b`, { ifNoneMatch: '*' }), 'AlreadyExists');
      expect((await backend.head(`${dir}a`)).size).toBe(7);
      const moved = await backend.move(`${dir}a`, `${dir}c`, { ifNoneMatch: '*' });
      expect(moved).toMatchObject({ key: `${dir}c`, size: 7, metadata: { m: '1' } });
      await expectCode(backend.head(`${dir}a`), 'NotFound');
    });
  });
}
