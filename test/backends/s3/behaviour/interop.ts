import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { rawClient } from '../../../servers/server.js';
import { GeneratedObject, MiB, bodyOf, getBytes, randomName, sha256 } from '../../../conformance/helpers.js';
import type { S3TestEnv } from '../env.js';
import { rclone } from '../tools.js';

export function describeInterop(env: () => S3TestEnv): void {
  describe('with an independent client (rclone)', () => {
    it('rclone reads back what bucketgate stored, byte for byte (single and multipart)', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith({ multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB });
      const dir = `uploads/rc-${randomName()}/`;
      const small = randomBytes(100_000);
      const big = new GeneratedObject(11 * MiB + 3);
      await backend.put(`${dir}small.bin`, bodyOf(small));
      await backend.put(`${dir}big.bin`, big.open());
      expect((await rclone(server, ['cat', `bg:${server.bucket}/${dir}small.bin`])).equals(small)).toBe(true);
      expect(sha256(await rclone(server, ['cat', `bg:${server.bucket}/${dir}big.bin`]))).toBe(big.sha256());
      const listed = (await rclone(server, ['lsf', `bg:${server.bucket}/${dir}`])).toString().trim().split('\n').sort();
      expect(listed).toEqual(['big.bin', 'small.bin']);
    });

    it('what rclone uploads is listed and read through bucketgate', async () => {
      const { backend, server } = env();
      const dir = `uploads/rc-${randomName()}/`;
      const local = await mkdtemp(join(tmpdir(), 'bucketgate-rclone-src-'));
      try {
        const data = randomBytes(2 * MiB + 17);
        await writeFile(join(local, 'from rclone.bin'), data);
        await rclone(server, ['copyto', join(local, 'from rclone.bin'), `bg:${server.bucket}/${dir}from rclone.bin`]);
        const page = await backend.list(dir);
        expect(page.objects.map((o) => o.key)).toEqual([`${dir}from rclone.bin`]);
        expect(page.objects[0]?.size).toBe(data.length);
        expect((await getBytes(backend, `${dir}from rclone.bin`)).equals(data)).toBe(true);
        // No checksum of ours on a foreign object: the store's ETag stands in, consistently.
        const head = await backend.head(`${dir}from rclone.bin`);
        expect(head.sha256).toBeUndefined();
        expect(head.etag).toBe(page.objects[0]?.etag);
        // And rclone's copy back out matches.
        await rclone(server, ['copyto', `bg:${server.bucket}/${dir}from rclone.bin`, join(local, 'back.bin')]);
        expect((await readFile(join(local, 'back.bin'))).equals(data)).toBe(true);
      } finally {
        await rm(local, { recursive: true, force: true });
      }
    });

    it('keys this service cannot address (foreign names, reserved .bg- names) are not listed', async () => {
      const { backend, server } = env();
      const dir = `uploads/rc-${randomName()}/`;
      const raw = rawClient(server);
      try {
        for (const Key of [`${dir}.bg-tmp-123`, `${dir}sub/.bg-probe`, `${dir}cafe\u0301.txt`, `${dir}ok.txt`]) {
          await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key, Body: 'x' }));
        }
      } finally {
        raw.destroy();
      }
      expect((await backend.list(dir)).objects.map((o) => o.key)).toEqual([`${dir}ok.txt`]);
    });
  });
}
