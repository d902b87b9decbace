import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresignedRequest } from '../../../../src/core/types.js';
import { bodyOf, expectCode, getBytes, randomName } from '../../../conformance/helpers.js';
import type { S3TestEnv } from '../env.js';
import { curl } from '../tools.js';

function headerArgs(req: PresignedRequest): string[] {
  return Object.entries(req.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
}

function formArgs(req: PresignedRequest, file: string, contentType: string): string[] {
  // The policy's fields first, the file last, as S3 wants.
  return [...Object.entries(req.fields ?? {}).flatMap(([k, v]) => ['-F', `${k}=${v}`]), '-F', `file=@${file};type=${contentType}`];
}

export function describePresign(env: () => S3TestEnv): void {
  describe('presigned requests, used with plain curl', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'bucketgate-presign-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('GET: curl downloads the object byte for byte', async () => {
      const { backend } = env();
      const key = `uploads/ps-${randomName()}/photo.bin`;
      const data = randomBytes(300_000);
      await backend.put(key, bodyOf(data));
      const req = await backend.presign(key, { method: 'GET', expiresIn: 120 });
      const res = await curl([...headerArgs(req), req.url]);
      expect(res.status).toBe(200);
      expect(res.body.equals(data)).toBe(true);
    });

    it('PUT: curl uploads with the signed headers; another content type is refused', async () => {
      const { backend } = env();
      const key = `uploads/ps-${randomName()}/notes.txt`;
      const file = join(dir, 'notes.txt');
      await writeFile(file, 'uploaded by curl');
      const req = await backend.presign(key, { method: 'PUT', expiresIn: 120, contentType: 'text/plain' });
      expect(req.headers['content-type']).toBe('text/plain');
      const wrongType = await curl(['-X', 'PUT', '-H', 'content-type: image/png', '--data-binary', `@${file}`, req.url]);
      expect(wrongType.status).toBe(403);
      await expectCode(backend.head(key), 'NotFound');
      const res = await curl(['-X', 'PUT', ...headerArgs(req), '--data-binary', `@${file}`, req.url]);
      expect(res.status).toBe(200);
      expect((await getBytes(backend, key)).toString()).toBe('uploaded by curl');
      expect((await backend.head(key)).contentType).toBe('text/plain');
    });

    it('PUT create-only: lands on a free key, never replaces an object (the store refuses it), and a POST cannot be create-only', async () => {
      const { backend } = env();
      const key = `uploads/ps-${randomName()}/once.txt`;
      const file = join(dir, 'once.txt');
      await writeFile(file, 'first');
      const req = await backend.presign(key, { method: 'PUT', expiresIn: 120, contentType: 'text/plain', createOnly: true });
      expect(req.headers['if-none-match']).toBe('*');
      expect((await curl(['-X', 'PUT', ...headerArgs(req), '--data-binary', `@${file}`, req.url])).status).toBe(200);
      await writeFile(file, 'second, larger');
      const again = await curl(['-X', 'PUT', ...headerArgs(req), '--data-binary', `@${file}`, req.url]);
      expect(again.status).toBe(412);
      // Leaving the condition out breaks the signature.
      const unconditional = await curl(['-X', 'PUT', '-H', 'content-type: text/plain', '--data-binary', `@${file}`, req.url]);
      expect([400, 403]).toContain(unconditional.status);
      expect((await getBytes(backend, key)).toString()).toBe('first');
      await expectCode(backend.presign(key, { method: 'POST', expiresIn: 120, createOnly: true }), 'Unsupported');
    });

    it('a tampered URL (other key, longer expiry) is refused', async () => {
      const { backend } = env();
      const key = `uploads/ps-${randomName()}/secret.txt`;
      await backend.put(key, bodyOf('private'));
      await backend.put(key.replace('secret', 'other'), bodyOf('also private'));
      const req = await backend.presign(key, { method: 'GET', expiresIn: 60 });
      const otherKey = await curl([req.url.replace('secret.txt', 'other.txt')]);
      expect(otherKey.status).toBe(403);
      const longer = await curl([req.url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800')]);
      expect(longer.status).toBe(403);
      expect(longer.body.toString()).not.toContain('private');
    });

    it('an expired URL is refused', async () => {
      const { backend } = env();
      const key = `uploads/ps-${randomName()}/brief.txt`;
      await backend.put(key, bodyOf('soon gone'));
      const req = await backend.presign(key, { method: 'GET', expiresIn: 1 });
      await sleep(2100);
      expect((await curl([req.url])).status).toBe(403);
    });

    it('POST policy: a browser-style form upload within the limits lands', async () => {
      const { backend } = env();
      const key = `uploads/ps-${randomName()}/form.txt`;
      const file = join(dir, 'form.txt');
      await writeFile(file, 'x'.repeat(1000));
      const req = await backend.presign(key, { method: 'POST', expiresIn: 120, contentType: 'text/plain', maxBytes: 1000 });
      expect(req.method).toBe('POST');
      expect(req.fields?.key).toBe(key);
      const res = await curl([...formArgs(req, file, 'text/plain'), req.url]);
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(300);
      expect((await backend.head(key)).size).toBe(1000);
    });

    it('a grant marker is signed into PUT and POST: head reports it, an upload without it or with another is refused', async () => {
      const { backend } = env();
      expect(backend.capabilities.presignGrant).toBe(true);
      const file = join(dir, 'marked.txt');
      await writeFile(file, 'marked');
      const putKey = `uploads/ps-${randomName()}/put.txt`;
      const put = await backend.presign(putKey, { method: 'PUT', expiresIn: 120, contentType: 'text/plain', grant: 'grant-A_1' });
      const { 'x-amz-meta-bg-grant': marker, ...unmarked } = put.headers;
      expect(marker).toBe('grant-A_1');
      const bare = await curl(['-X', 'PUT', ...headerArgs({ ...put, headers: unmarked }), '--data-binary', `@${file}`, put.url]);
      expect([400, 403]).toContain(bare.status);
      const forged = await curl(['-X', 'PUT', ...headerArgs({ ...put, headers: { ...unmarked, 'x-amz-meta-bg-grant': 'grant-B' } }), '--data-binary', `@${file}`, put.url]);
      expect([400, 403]).toContain(forged.status);
      await expectCode(backend.head(putKey), 'NotFound');
      expect((await curl(['-X', 'PUT', ...headerArgs(put), '--data-binary', `@${file}`, put.url])).status).toBe(200);
      const info = await backend.head(putKey);
      expect(info.grant).toBe('grant-A_1');
      expect(info.metadata).toEqual({}); // ours, not the caller's metadata

      const postKey = `uploads/ps-${randomName()}/post.txt`;
      const post = await backend.presign(postKey, { method: 'POST', expiresIn: 120, contentType: 'text/plain', maxBytes: 100, grant: 'grant-C' });
      const other = await curl([...formArgs({ ...post, fields: { ...post.fields, 'x-amz-meta-bg-grant': 'grant-D' } }, file, 'text/plain'), post.url]);
      expect(other.status).toBe(403);
      await expectCode(backend.head(postKey), 'NotFound');
      const res = await curl([...formArgs(post, file, 'text/plain'), post.url]);
      expect(res.status).toBeLessThan(300);
      expect((await backend.head(postKey)).grant).toBe('grant-C');
      // An ordinary put carries none: a later overwrite is no grant's upload.
      await backend.put(postKey, bodyOf('overwritten'));
      expect((await backend.head(postKey)).grant).toBeUndefined();
      await expect(backend.presign(postKey, { method: 'PUT', expiresIn: 60, grant: 'no spaces' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    });

    it('POST policy: over content-length-range or another content type is refused and stores nothing', async () => {
      const { backend } = env();
      const key = `uploads/ps-${randomName()}/form.txt`;
      const big = join(dir, 'big.txt');
      await writeFile(big, 'x'.repeat(1001));
      const small = join(dir, 'small.txt');
      await writeFile(small, 'y'.repeat(10));
      const req = await backend.presign(key, { method: 'POST', expiresIn: 120, contentType: 'text/plain', maxBytes: 1000 });
      const tooBig = await curl([...formArgs(req, big, 'text/plain'), req.url]);
      expect(tooBig.status).toBe(400);
      expect(tooBig.body.toString()).toMatch(/EntityTooLarge|too large|exceeds/i);
      const fields = { ...req.fields, 'Content-Type': 'image/png' };
      const wrongType = await curl([...formArgs({ ...req, fields }, small, 'image/png'), req.url]);
      expect(wrongType.status).toBe(403);
      await expectCode(backend.head(key), 'NotFound');
    });
  });
}
