import { describe, expect, it } from 'vitest';
import { minimalIamPolicy, setupS3Bucket, type SetupOptions } from '../../../../src/backends/s3/index.js';
import { bodyOf, randomName } from '../../../conformance/helpers.js';
import type { S3TestEnv } from '../env.js';

const OPTIONS: SetupOptions = {
  segments: [
    { name: 'uploads' },
    { name: 'videos', public: true },
    { name: 'logs', retentionDays: 30 },
  ],
  corsOrigins: ['http://localhost:5173'],
};

/**
 * What each test server does with each step, pinned: a regression that turned a supported step
 * into "unsupported" (or the reverse) fails here instead of passing as an accepted outcome.
 * MinIO has no bucket CORS API (its CORS is server-wide) and no public access block; Ceph RGW
 * has no public access block and no replication through the S3 API.
 */
const FIRST_RUN: Record<string, Record<string, string>> = {
  minio: { bucket: 'created', cors: 'unsupported', lifecycle: 'created', 'public access block': 'unsupported', 'public read policy': 'created' },
  ceph: { bucket: 'created', cors: 'created', lifecycle: 'created', 'public access block': 'unsupported', 'public read policy': 'created' },
};

function expectedFirstRun(server: string): Record<string, string> {
  const expected = FIRST_RUN[server];
  if (!expected) throw new Error(`no expected setup outcome for test server "${server}": add it to FIRST_RUN`);
  return expected;
}

export function describeSetup(env: () => S3TestEnv): void {
  describe('setup', () => {
    it('creates a missing bucket and configures it; a second run changes nothing', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith({ bucket: `bg-setup-${randomName()}`, publicSegments: ['videos'] });
      const first = await setupS3Bucket(backend, OPTIONS);
      expect(Object.fromEntries(first.map((s) => [s.step, s.status]))).toEqual(expectedFirstRun(server.name));
      expect(first.map((s) => s.step)).toEqual(['bucket', 'cors', 'lifecycle', 'public access block', 'public read policy']);
      const second = await setupS3Bucket(backend, OPTIONS);
      for (const s of second) expect(['unchanged', 'unsupported'], `${s.step}: ${s.status} ${s.detail}`).toContain(s.status);
      expect(second.map((s) => s.status)).toEqual(first.map((s) => (s.status === 'unsupported' ? 'unsupported' : 'unchanged')));
      // The bucket works afterwards.
      await backend.put('uploads/after-setup.txt', bodyOf('ok'));
      expect((await backend.head('uploads/after-setup.txt')).size).toBe(2);
    });

    it('a public segment is readable without credentials (both test servers apply bucket policies)', async () => {
      const { backendWith } = env();
      const backend = await backendWith({ bucket: `bg-public-${randomName()}`, publicSegments: ['videos'] });
      const steps = await setupS3Bucket(backend, OPTIONS);
      expect(steps.find((s) => s.step === 'public read policy')?.status).toBe('created');
      await backend.put('videos/clip.mp4', bodyOf('public video'), { contentType: 'video/mp4' });
      await backend.put('uploads/private.txt', bodyOf('private'));
      const url = backend.publicUrl('videos/clip.mp4');
      expect(url).toBeDefined();
      const res = await fetch(url as string);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('public video');
      expect(backend.publicUrl('uploads/private.txt')).toBeUndefined();
      const privateUrl = (url as string).replace('videos/clip.mp4', 'uploads/private.txt');
      expect((await fetch(privateUrl)).status).toBe(403);
    });

    it('changing a retention period updates the lifecycle step only', async () => {
      const { backendWith } = env();
      const backend = await backendWith({ bucket: `bg-life-${randomName()}` });
      const first = await setupS3Bucket(backend, OPTIONS);
      const changed = await setupS3Bucket(backend, { ...OPTIONS, segments: OPTIONS.segments.map((s) => (s.name === 'logs' ? { ...s, retentionDays: 7 } : s)) });
      expect(first.find((s) => s.step === 'lifecycle')?.status).toBe('created');
      expect(changed.filter((s) => s.status === 'updated').map((s) => s.step)).toEqual(['lifecycle']);
      expect(changed.find((s) => s.step === 'lifecycle')?.detail).toMatch(/logs after 7 days/);
    });

    it('replication: set where the server has the API, plainly refused or reported unsupported where not', async () => {
      const { backendWith, server } = env();
      const backend = await backendWith({ bucket: `bg-rep-${randomName()}` });
      const withReplication = { ...OPTIONS, replication: { destinationBucket: 'bg-replica', roleArn: 'arn:aws:iam::123456789012:role/replication' } };
      if (server.name === 'minio') {
        // MinIO replicates only to targets registered through its admin API.
        await expect(setupS3Bucket(backend, withReplication)).rejects.toMatchObject({ code: 'ConfigInvalid', message: expect.stringMatching(/remote target/) });
        return;
      }
      // Ceph RGW: versioning is set, replication through the S3 API is reported unsupported.
      const first = await setupS3Bucket(backend, withReplication);
      const second = await setupS3Bucket(backend, withReplication);
      expect(first.slice(-2).map((s) => [s.step, s.status])).toEqual([['versioning', 'created'], ['replication', 'unsupported']]);
      expect(second.slice(-2).map((s) => [s.step, s.status])).toEqual([['versioning', 'unchanged'], ['replication', 'unsupported']]);
    });

    it('gives the minimal IAM policy for the bucket', () => {
      const policy = minimalIamPolicy('my-bucket') as { Statement: { Action: string[]; Resource: string }[] };
      const actions = policy.Statement.flatMap((s) => s.Action);
      expect(actions).toEqual(expect.arrayContaining(['s3:ListBucket', 's3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload']));
      expect(actions).not.toContain('s3:*');
      expect(policy.Statement.map((s) => s.Resource)).toEqual(['arn:aws:s3:::my-bucket', 'arn:aws:s3:::my-bucket/*']);
    });
  });
}
