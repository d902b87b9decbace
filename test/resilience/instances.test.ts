import { rm } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresTestServer, startPostgres } from '../servers/postgres.js';
import { rawClient } from '../servers/server.js';
import { bytes, sha256, tempDir } from './helpers.js';
import { type RestartableMinio, minioContents, startRestartableMinio } from './minio-restartable.js';
import { type ServiceProcess, client, spawnService } from './service-process.js';

/**
 * Two real service processes sharing one PostgreSQL catalog, one MinIO and one fallback
 * folder: what one accepts, the other serves; a single-use token is single-use across both;
 * and writes queued during an outage are replayed once, not once per instance.
 */
let pg: PostgresTestServer;
let minio: RestartableMinio;
let s3: S3Client;
let a: ServiceProcess;
let b: ServiceProcess;
const dirs: string[] = [];

beforeAll(async () => {
  [pg, minio] = await Promise.all([startPostgres(), startRestartableMinio()]);
  s3 = rawClient(minio);
  const database = await pg.newDatabase();
  const shared = await tempDir('bg-shared-fallback-');
  dirs.push(shared);
  const env = {
    BHIV_STORAGE_BACKEND: 'minio',
    S3_BUCKET_NAME: minio.bucket,
    S3_ENDPOINT_URL: minio.endpoint,
    AWS_ACCESS_KEY_ID: minio.accessKeyId,
    AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
    DATABASE_URL: database,
    BHIV_FALLBACK_PATH: shared,
    BHIV_RETRY_BASE_DELAY_MS: '20',
    BHIV_CIRCUIT_HALF_OPEN_MS: '300',
    BHIV_REPLAY_INTERVAL_MS: '50',
  };
  const jwtSecret = 'x'.repeat(64);
  const [da, db] = [await tempDir('bg-inst-a-'), await tempDir('bg-inst-b-')];
  dirs.push(da, db);
  // One after the other: the first applies the catalog migrations.
  a = await spawnService({ bucketPath: da, env, jwtSecret });
  b = await spawnService({ bucketPath: db, env, jwtSecret });
}, 20 * 60_000);

afterAll(async () => {
  await a?.kill9();
  await b?.kill9();
  s3?.destroy();
  await minio?.destroy();
  await pg?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('two service processes, one PostgreSQL catalog, one MinIO', () => {
  it('serves through one what was uploaded through the other, with no read-after-write miss', async () => {
    let misses = 0;
    for (let i = 0; i < 300; i++) {
      const [writer, reader] = i % 2 ? [a, b] : [b, a];
      const data = bytes(500 + i * 13, i);
      const up = await client.upload(writer, 'uploads', `raw/${i}.bin`, data);
      expect(up.status).toBe(201);
      const got = await client.download(reader, up.object!.id);
      if (got.status !== 200 || sha256(got.bytes) !== sha256(data)) misses++;
    }
    expect(misses).toBe(0);
  });

  it('lets a single-use token be used once across both instances', async () => {
    for (let i = 0; i < 20; i++) {
      const g = await client.grant(a, 'uploads', `token/${i}.bin`);
      const viaB = g.uploadUrl.replace(a.url, b.url);
      const send = (url: string) => fetch(url, { method: 'POST', body: bytes(100, i), headers: { 'content-type': 'application/octet-stream' } }).then((r) => r.status);
      const statuses = (await Promise.all([send(g.uploadUrl), send(viaB), send(viaB)])).sort();
      expect(statuses).toEqual([201, 401, 401]);
    }
  });

  it('replays the outbox once, not once per instance, after an outage', { timeout: 120_000 }, async () => {
    await minio.kill();
    const sums = new Map<string, string>();
    for (let i = 0; i < 80; i++) {
      const data = bytes(2000 + i, 1000 + i);
      const r = await client.upload(i % 2 ? a : b, 'uploads', `outage/${i}.bin`, data);
      expect(r.status).toBe(201);
      sums.set(`uploads/outage/${i}.bin`, sha256(data));
    }
    // Both see the queued writes of both: reads find them on the shared fallback.
    const listed = await client.list(b, 'uploads');
    for (const [key, sum] of sums) {
      const got = await client.download(a, listed.find((o) => o.key === key)!.id);
      expect(`${key} ${got.status} ${sha256(got.bytes)}`).toBe(`${key} 200 ${sum}`);
    }
    await minio.start();
    const until = Date.now() + 60_000;
    for (;;) {
      const [sa, sb] = await Promise.all([client.status(a), client.status(b)]);
      // The counters follow the catalog's commit by a round trip: wait for both.
      const counted = sa.fallback.replayer.replayed + sb.fallback.replayer.replayed;
      if (sa.fallback.pending === 0 && sb.fallback.pending === 0 && counted >= 80) break;
      if (Date.now() > until) throw new Error('outbox did not drain');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [ra, rb] = await Promise.all([client.status(a), client.status(b)]).then((s) => s.map((x) => x.fallback.replayer));
    expect(ra.copied + rb.copied).toBe(80);
    expect(ra.replayed + rb.replayed).toBe(80);
    const onMinio = await minioContents(s3, minio.bucket, 'uploads/outage/');
    expect(new Map([...onMinio].sort())).toEqual(new Map([...sums].sort()));
    console.log(JSON.stringify({ replayedByA: ra.replayed, replayedByB: rb.replayed, copiedTotal: ra.copied + rb.copied }));
  });
});
