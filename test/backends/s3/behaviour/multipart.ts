import { Readable } from 'node:stream';
import { PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { rawClient } from '../../../servers/server.js';
import { GeneratedObject, MiB, bodyOf, expectCode, expectStorageError, failingBody, getBytes, randomName, readAll, sha256 } from '../../../conformance/helpers.js';
import type { S3TestEnv } from '../env.js';
import { corruptAfterSigning, openUploads, recordCommands } from '../tools.js';

const SMALL_PARTS = { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB, queueSize: 2 };

/** A body that sends `size` bytes of 0x61 in 256 KiB chunks, then ends or fails. */
function steadyBody(size: number, then: 'end' | 'fail' = 'end'): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) {
        if (then === 'end') this.push(null);
        else setImmediate(() => this.destroy(new Error('cut off by the test')));
        return;
      }
      const n = Math.min(256 * 1024, size - sent);
      sent += n;
      this.push(Buffer.alloc(n, 0x61));
    },
  });
}

export function describeMultipart(env: () => S3TestEnv): void {
  describe('multipart uploads', () => {
    it('sends a body above the threshold in parts, and records its SHA-256 (in tags) for head and list', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith(SMALL_PARTS);
      const sent = recordCommands(backend.client);
      const key = `uploads/mp-${randomName()}/big.bin`;
      const object = new GeneratedObject(12 * MiB + 4321);
      const info = await backend.put(key, object.open(), { contentType: 'video/mp4', metadata: { take: '3' } });
      expect(sent.filter((c) => c === 'UploadPart')).toHaveLength(3);
      expect(sent).toContain('CompleteMultipartUpload');
      expect(sent).not.toContain('PutObject');
      // The checksum goes into tags (a constant-cost call), not through a copy of the object.
      expect(sent).toContain('PutObjectTagging');
      expect(sent).not.toContain('CopyObject');
      expect(info).toMatchObject({ size: object.size, sha256: object.sha256() });
      const head = await backend.head(key);
      expect(head).toMatchObject({ size: object.size, sha256: object.sha256(), etag: info.etag, contentType: 'video/mp4', metadata: { take: '3' } });
      // Reads need no tag lookup: the ETag is the store's, the same in get, head and list.
      const reads = recordCommands(backend.client);
      expect((await backend.get(key, { range: { start: 0, end: 0 } })).info.etag).toBe(info.etag);
      expect(reads).toEqual(['GetObject']);
      expect((await backend.list(key)).objects[0]).toMatchObject({ etag: info.etag, sha256: object.sha256() });
      // A range across the first part boundary comes back exact.
      const got = await backend.get(key, { range: { start: 5 * MiB - 10, end: 5 * MiB + 9 } });
      expect((await readAll(got.body)).equals(object.slice(5 * MiB - 10, 5 * MiB + 9))).toBe(true);
      expect(await openUploads(server, key)).toEqual([]);
    });

    it('a checksum tag that describes another version of the object is not believed', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith(SMALL_PARTS);
      const key = `uploads/mp-${randomName()}/tagged.bin`;
      const object = new GeneratedObject(6 * MiB);
      const info = await backend.put(key, object.open());
      expect((await backend.head(key)).sha256).toBe(object.sha256());
      const raw = rawClient(server);
      try {
        const fake = { TagSet: [{ Key: 'bg-sha256', Value: 'f'.repeat(64) }, { Key: 'bg-etag', Value: 'not-this-object-1' }] };
        await raw.send(new PutObjectTaggingCommand({ Bucket: server.bucket, Key: key, Tagging: fake }));
      } finally {
        raw.destroy();
      }
      const head = await backend.head(key);
      expect(head.sha256).toBeUndefined();
      expect(head.etag).toBe(info.etag);
    });

    it('stores a declared SHA-256 as the upload starts (no copy afterwards)', async () => {
      const { backendWith } = env();
      const backend = await backendWith(SMALL_PARTS);
      const sent = recordCommands(backend.client);
      const key = `uploads/mp-${randomName()}/declared.bin`;
      const object = new GeneratedObject(6 * MiB);
      const info = await backend.put(key, object.open(), { sha256: object.sha256(), contentLength: object.size });
      expect(sent).not.toContain('CopyObject');
      expect((await backend.head(key)).sha256).toBe(object.sha256());
      expect(info.etag).toBe(`"${object.sha256()}"`);
    });

    it('aborts the upload when the body is cut off half way: no upload left, nothing stored', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith(SMALL_PARTS);
      const key = `uploads/mp-${randomName()}/cut.bin`;
      await expectStorageError(backend.put(key, steadyBody(11 * MiB, 'fail')));
      expect(await openUploads(server, key)).toEqual([]);
      await expectCode(backend.head(key), 'NotFound');
    });

    it('aborts the upload when the body passes maxBytes', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith(SMALL_PARTS);
      const key = `uploads/mp-${randomName()}/over.bin`;
      await expectCode(backend.put(key, steadyBody(14 * MiB), { maxBytes: 12 * MiB }), 'TooLarge');
      expect(await openUploads(server, key)).toEqual([]);
      await expectCode(backend.head(key), 'NotFound');
    });

    it('aborts the upload when the caller aborts', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith(SMALL_PARTS);
      const key = `uploads/mp-${randomName()}/aborted.bin`;
      const controller = new AbortController();
      let sent = 0;
      const body = new Readable({
        read() {
          sent += 1;
          if (sent === 40) controller.abort(); // 40 × 256 KiB = 10 MiB: two parts are up
          setImmediate(() => this.push(Buffer.alloc(256 * 1024, 0x62)));
        },
      });
      await expectStorageError(backend.put(key, body, { signal: controller.signal }));
      expect(await openUploads(server, key)).toEqual([]);
      await expectCode(backend.head(key), 'NotFound');
    });

    it('a multipart overwrite that fails its checksum aborts and keeps the old version', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith(SMALL_PARTS);
      const key = `uploads/mp-${randomName()}/keep.bin`;
      const old = await backend.put(key, bodyOf('old bytes'), { contentType: 'text/plain' });
      const object = new GeneratedObject(11 * MiB);
      await expectCode(backend.put(key, object.open(), { sha256: sha256('something else') }), 'ChecksumMismatch');
      await expectStorageError(backend.put(key, failingBody(7 * MiB)));
      await expectStorageError(backend.put(key, object.open(), { contentLength: object.size - 1 }));
      expect(await openUploads(server, key)).toEqual([]);
      expect((await getBytes(backend, key)).toString()).toBe('old bytes');
      expect((await backend.head(key)).etag).toBe(old.etag);
    });

    it('signs every part with its SHA-256, so a part altered on the way is refused and the upload aborted', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith(SMALL_PARTS);
      const key = `uploads/mp-${randomName()}/altered.bin`;
      const old = await backend.put(key, bodyOf('old bytes'));
      corruptAfterSigning(backend.client, 'UploadPartCommand');
      await expectCode(backend.put(key, new GeneratedObject(11 * MiB).open()), 'ChecksumMismatch');
      expect(await openUploads(server, key)).toEqual([]);
      expect((await backend.head(key)).etag).toBe(old.etag);
    });

    it('a create-only multipart upload over an existing key is AlreadyExists before any part is sent', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith(SMALL_PARTS);
      const key = `uploads/mp-${randomName()}/once.bin`;
      await backend.put(key, bodyOf('first'));
      const sent = recordCommands(backend.client);
      await expectCode(backend.put(key, new GeneratedObject(11 * MiB).open(), { ifNoneMatch: '*' }), 'AlreadyExists');
      expect(sent).not.toContain('UploadPart');
      expect(await openUploads(server, key)).toEqual([]);
      expect((await getBytes(backend, key)).toString()).toBe('first');
      const fresh = `uploads/mp-${randomName()}/fresh.bin`;
      expect((await backend.put(fresh, new GeneratedObject(11 * MiB).open(), { ifNoneMatch: '*' })).size).toBe(11 * MiB);
    });

    it('copies an object above the copy threshold part by part, keeping type and metadata', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith({ ...SMALL_PARTS, multipartCopyThresholdBytes: 6 * MiB });
      const sent = recordCommands(backend.client);
      const dir = `uploads/mp-${randomName()}/`;
      const object = new GeneratedObject(11 * MiB + 5);
      const original = await backend.put(`${dir}src.bin`, object.open(), { contentType: 'application/x-test', metadata: { k: 'v' } });
      const copied = await backend.copy(`${dir}src.bin`, `${dir}dst.bin`);
      expect(sent.filter((c) => c === 'UploadPartCopy').length).toBeGreaterThanOrEqual(2);
      expect(original.sha256).toBe(object.sha256());
      // The copy carries the checksum in its metadata, so its ETag derives from it.
      expect(copied).toMatchObject({ size: object.size, etag: `"${object.sha256()}"`, contentType: 'application/x-test', metadata: { k: 'v' } });
      const head = await backend.head(`${dir}dst.bin`);
      expect(head).toMatchObject({ size: object.size, sha256: object.sha256(), etag: copied.etag, contentType: 'application/x-test', metadata: { k: 'v' } });
      expect(sha256(await getBytes(backend, `${dir}dst.bin`))).toBe(object.sha256());
      expect(await openUploads(server, dir)).toEqual([]);
    });
  });
}
