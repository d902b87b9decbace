import { rm } from 'node:fs/promises';
import { startPostgres } from '../../test/servers/postgres.js';
import { tempDir } from '../../test/resilience/helpers.js';
import { startRestartableMinio } from '../../test/resilience/minio-restartable.js';
import { spawnService } from '../../test/resilience/service-process.js';
import { log, report } from './report.js';
import { body, client, pool, sha256 } from './services.js';

/** Two service processes on one PostgreSQL catalog and one MinIO: 10⁴ operations split across them. */
export async function instances(operations = 10_000): Promise<void> {
  const [pg, minio] = await Promise.all([startPostgres(), startRestartableMinio()]);
  const dirs = [await tempDir('bg-inst-a-'), await tempDir('bg-inst-b-'), await tempDir('bg-inst-fb-')];
  const env = {
    BHIV_STORAGE_BACKEND: 'minio',
    S3_BUCKET_NAME: minio.bucket,
    S3_ENDPOINT_URL: minio.endpoint,
    AWS_ACCESS_KEY_ID: minio.accessKeyId,
    AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
    DATABASE_URL: await pg.newDatabase(),
    BHIV_FALLBACK_PATH: dirs[2]!,
  };
  const jwtSecret = 'r'.repeat(64);
  const a = await spawnService({ bucketPath: dirs[0]!, env, jwtSecret });
  const b = await spawnService({ bucketPath: dirs[1]!, env, jwtSecret });
  const s = 'two instances';
  try {
    // Half the operations are writes through one instance, half reads of them through the other at once.
    const pairs = Math.floor(operations / 2);
    let misses = 0;
    let refused = 0;
    const started = Date.now();
    log(`instances: ${pairs} writes + ${pairs} reads across two processes…`);
    await pool(
      Array.from({ length: pairs }, (_, i) => i),
      8,
      async (i) => {
        const [writer, reader] = i % 2 ? [a, b] : [b, a];
        const data = body(i, 8000);
        const up = await client.upload(writer, 'uploads', `raw/${i}.bin`, data);
        if (up.status !== 201) return void refused++;
        const got = await client.download(reader, up.object!.id);
        if (got.status !== 200 || sha256(got.bytes) !== sha256(data)) misses++;
      },
    );
    report({ scenario: s, figure: 'operations (writes + cross-instance reads)', value: pairs * 2, unit: 'ops', min: 10_000 });
    report({ scenario: s, figure: 'read-after-write misses', value: misses, unit: 'reads', max: 0 });
    report({ scenario: s, figure: 'writes refused', value: refused, unit: 'writes', max: 0 });
    report({ scenario: s, figure: 'throughput', value: (pairs * 2) / ((Date.now() - started) / 1000), unit: 'ops/s' });
    let reused = 0;
    for (let i = 0; i < 100; i++) {
      const g = await client.grant(a, 'uploads', `token/${i}.bin`);
      const send = (url: string) => fetch(url, { method: 'POST', body: body(i, 100), headers: { 'content-type': 'application/octet-stream' } }).then((r) => r.status);
      const statuses = await Promise.all([send(g.uploadUrl), send(g.uploadUrl.replace(a.url, b.url))]);
      if (statuses.filter((x) => x === 201).length !== 1) reused++;
    }
    report({ scenario: s, figure: 'single-use tokens used twice (100 raced across both)', value: reused, unit: 'tokens', max: 0 });
  } finally {
    await a.kill9();
    await b.kill9();
    await minio.destroy();
    await pg.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}
