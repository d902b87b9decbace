import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testS3Connection } from '../../../../src/backends/s3/index.js';
import { freePort } from '../../../support/ports.js';
import { startMinio } from '../../../servers/minio.js';
import type { S3TestServer } from '../../../servers/server.js';
import { randomName } from '../../../conformance/helpers.js';
import type { S3TestEnv } from '../env.js';
import { optionsFor } from '../fixture.js';

export function describeConnectionTest(env: () => S3TestEnv): void {
  describe('connection test', () => {
    it('passes on good settings, with timed list, write, read and delete probes', async () => {
      const { server } = env();
      const report = await testS3Connection(optionsFor(server));
      expect(report.ok).toBe(true);
      expect(report.problem).toBeUndefined();
      expect(report.checks.map((c) => c.name)).toEqual(['reach', 'list', 'write', 'read', 'delete']);
      for (const c of report.checks) {
        expect(c.ok).toBe(true);
        expect(c.ms).toBeGreaterThanOrEqual(0);
      }
    });

    it('tells the failures apart in plain words, never showing the secret', async () => {
      const { server } = env();
      const good = optionsFor(server);
      const port = await freePort();
      const cases = [
        { opts: { ...good, endpoint: `http://127.0.0.1:${port}` }, problem: 'unreachable', words: /cannot reach/ },
        { opts: { ...good, accessKeyId: 'NOSUCHKEY0000000' }, problem: 'bad-access-key', words: /access key/ },
        { opts: { ...good, secretAccessKey: 'not-the-secret-0123456789' }, problem: 'bad-secret', words: /secret key/ },
        { opts: { ...good, bucket: `missing-${randomName()}` }, problem: 'bucket-missing', words: /does not exist/ },
      ] as const;
      for (const c of cases) {
        const report = await testS3Connection(c.opts, { timeoutMs: 3000 });
        expect(report.ok, c.problem).toBe(false);
        expect(report.problem).toBe(c.problem);
        expect(report.message).toMatch(c.words);
        expect(JSON.stringify(report)).not.toContain(server.secretAccessKey);
        expect(JSON.stringify(report)).not.toContain('not-the-secret');
      }
    });
  });
}

/** A MinIO that checks the region requests are signed for (MINIO_SITE_REGION). */
export function describeWrongRegion(): void {
  describe('connection test: wrong region', () => {
    let server: S3TestServer;
    beforeAll(async () => {
      server = await startMinio({ region: 'eu-central-1' });
    }, 120_000);
    afterAll(() => server?.stop());

    it('says the region is wrong, and which one the store expects', async () => {
      const report = await testS3Connection({ ...optionsFor(server), region: 'us-west-2' });
      expect(report.problem).toBe('wrong-region');
      expect(report.message).toMatch(/not in region us-west-2.*eu-central-1.*S3_REGION/);
      expect((await testS3Connection(optionsFor(server))).ok).toBe(true);
    });
  });
}
