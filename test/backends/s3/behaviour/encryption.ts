import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Backend } from '../../../../src/backends/s3/backend.js';
import { startMinio } from '../../../servers/minio.js';
import { type S3TestServer, rawClient } from '../../../servers/server.js';
import { GeneratedObject, MiB, bodyOf, getBytes, randomName, sha256 } from '../../../conformance/helpers.js';
import { backendFor } from '../fixture.js';
import { curl } from '../tools.js';

/** SSE-S3 on a MinIO that has a key (MINIO_KMS_SECRET_KEY); every write asks for encryption. */
export function describeEncryption(): void {
  describe('server-side encryption (S3_SSE=AES256)', () => {
    let server: S3TestServer;
    let backend: S3Backend;
    beforeAll(async () => {
      server = await startMinio({ kms: true });
      backend = await backendFor(server, { sse: 'AES256', multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB });
    }, 120_000);
    afterAll(async () => {
      await backend?.close();
      await server?.stop();
    });

    const encryption = async (key: string) => {
      const raw = rawClient(server);
      try {
        return (await raw.send(new HeadObjectCommand({ Bucket: server.bucket, Key: key }))).ServerSideEncryption;
      } finally {
        raw.destroy();
      }
    };

    it('declares the capability', () => {
      expect(backend.capabilities.serverSideEncryption).toBe(true);
    });

    it('encrypts single, multipart and copied objects, and reads them back', async () => {
      const dir = `uploads/sse-${randomName()}/`;
      await backend.put(`${dir}small.txt`, bodyOf('secret notes'), { contentType: 'text/plain' });
      const big = new GeneratedObject(11 * MiB);
      const info = await backend.put(`${dir}big.bin`, big.open());
      await backend.copy(`${dir}small.txt`, `${dir}copy.txt`);
      for (const name of ['small.txt', 'big.bin', 'copy.txt']) expect(await encryption(`${dir}${name}`), name).toBe('AES256');
      expect((await getBytes(backend, `${dir}copy.txt`)).toString()).toBe('secret notes');
      expect(sha256(await getBytes(backend, `${dir}big.bin`))).toBe(big.sha256());
      expect((await backend.head(`${dir}big.bin`)).etag).toBe(info.etag);
    });

    it('a presigned PUT carries the encryption header, signed', async () => {
      const key = `uploads/sse-${randomName()}/direct.txt`;
      const req = await backend.presign(key, { method: 'PUT', expiresIn: 60, contentType: 'text/plain' });
      expect(req.headers['x-amz-server-side-encryption']).toBe('AES256');
      const headers = Object.entries(req.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
      expect((await curl(['-X', 'PUT', ...headers, '--data-binary', 'direct', req.url])).status).toBe(200);
      expect(await encryption(key)).toBe('AES256');
      // Without the signed header the store refuses the request.
      const unsigned = await curl(['-X', 'PUT', '-H', 'content-type: text/plain', '--data-binary', 'direct', req.url]);
      expect(unsigned.status).toBeGreaterThanOrEqual(400);
    });
  });
}
