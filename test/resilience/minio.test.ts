import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Backend } from '../../src/backends/s3/index.js';
import { rawClient } from '../servers/server.js';
import { type ServiceHandle, startService } from '../support/service.js';
import { type TcpProxy, startTcpProxy } from '../support/tcp-proxy.js';
import { bytes, sha256 } from './helpers.js';
import { type RestartableMinio, startRestartableMinio } from './minio-restartable.js';
import { client } from './service-process.js';

/**
 * The primary is a real MinIO: stopped outright in the middle of a run of uploads, and
 * reached through a TCP proxy that drops, slows and swallows connections. The service runs
 * in this process (over the same stack `bucketgate serve` builds); MinIO and the network are real.
 */
let minio: RestartableMinio;
let s3: S3Client;
beforeAll(async () => {
  minio = await startRestartableMinio();
  s3 = rawClient(minio);
}, 20 * 60_000);
afterAll(async () => {
  s3?.destroy();
  await minio?.destroy();
});

async function onMinio(key: string): Promise<string | undefined> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: minio.bucket, Key: key }));
    return sha256(Buffer.from(await r.Body!.transformToByteArray()));
  } catch {
    return undefined;
  }
}

async function service(endpoint: string, env: Record<string, string> = {}): Promise<ServiceHandle> {
  const h = await startService({
    backend: async () => ({
      // The SDK's own retries are off: the retry layer is the one under test.
      backend: await createS3Backend({ bucket: minio.bucket, region: minio.region, endpoint, accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey, forcePathStyle: true, maxAttempts: 1, connectTimeoutMs: 1000, socketTimeoutMs: 2000 }),
    }),
    env: { MAX_UPLOAD_SIZE_MB: '16', BHIV_IDLE_TIMEOUT_MS: '30000', BHIV_RETRY_BASE_DELAY_MS: '20', BHIV_CIRCUIT_HALF_OPEN_MS: '500', BHIV_REPLAY_INTERVAL_MS: '200', ...env },
  });
  await h.storage.resilience!.start();
  return h;
}

const svc = (h: ServiceHandle) => ({ url: h.url, token: h.serviceToken });

async function drained(h: ServiceHandle, ms = 60_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const st = await client.status({ url: h.url });
    if (st.fallback.pending === 0) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`outbox not drained: ${JSON.stringify(st.fallback)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const metric = async (h: ServiceHandle, name: string) =>
  (await h.storage.metrics.getSingleMetricAsString(name).catch(() => ''))
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

describe('MinIO stopped in the middle of 200 uploads', () => {
  it('accepts all 200, and every one ends on MinIO with the right bytes once it is back', { timeout: 300_000 }, async () => {
    const h = await service(minio.endpoint);
    try {
      const bodies = Array.from({ length: 200 }, (_, i) => bytes(2000 + ((i * 7919) % 300_000), i));
      const statuses: number[] = [];
      let next = 0;
      let done = 0;
      const outage = { stoppedAt: 0, restartedAt: 0 };
      const worker = async () => {
        for (let i = next++; i < bodies.length; i = next++) {
          const r = await client.upload(svc(h), 'uploads', `run/${i}.bin`, bodies[i]!);
          statuses[i] = r.status;
          done++;
          if (done === 60 && !outage.stoppedAt) {
            outage.stoppedAt = Date.now();
            await minio.kill();
          }
          if (done === 140 && !outage.restartedAt) {
            outage.restartedAt = Date.now();
            await minio.start();
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(statuses.filter((s) => s === 201)).toHaveLength(200);
      const diverted = await metric(h, 'bucketgate_fallback_writes_total');
      expect(diverted).toBeGreaterThan(0);
      const replayMs = await drained(h);
      for (let i = 0; i < bodies.length; i++) expect(`${i} ${await onMinio(`uploads/run/${i}.bin`)}`).toBe(`${i} ${sha256(bodies[i]!)}`);
      const status = await client.status({ url: h.url });
      expect(status.fallback).toMatchObject({ pending: 0, failed: 0 });
      console.log(JSON.stringify({ uploads: 200, accepted: 200, divertedToFallback: diverted, replayAfterRestartMs: Date.now() - outage.restartedAt, drainWaitMs: replayMs }));
    } finally {
      await h.stop();
    }
  });
});

describe('a dropping, slow or swallowing network in front of MinIO', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: minio.port }, { seed: 42 });
  });
  afterAll(async () => proxy?.close());

  it('retries through dropped connections, opens the breaker in a black hole, and recovers', { timeout: 300_000 }, async () => {
    const h = await service(proxy.url, { BHIV_BACKEND_TIMEOUT_MS: '500', BHIV_RETRY_ATTEMPTS: '4' });
    try {
      const upload = (name: string, body: Buffer) => client.upload(svc(h), 'uploads', name, body);
      // 1. A third of the connections reset part-way: retries carry every upload through.
      proxy.set({ kind: 'drop', probability: 0.3 });
      const dropped: Buffer[] = [];
      for (let i = 0; i < 40; i++) {
        dropped.push(bytes(20_000 + i, 100 + i));
        expect((await upload(`drop/${i}.bin`, dropped[i]!)).status).toBe(201);
      }
      expect(proxy.stats.dropped).toBeGreaterThan(5);
      expect(await metric(h, 'bucketgate_backend_retries_total')).toBeGreaterThan(0);
      // 2. Slow but working: nothing fails.
      proxy.set({ kind: 'slow', delayMs: 30 });
      for (let i = 0; i < 5; i++) expect((await upload(`slow/${i}.bin`, bytes(5000, i))).status).toBe(201);
      // 3. A black hole: attempts time out; the breaker opens and writes go to the fallback at once.
      proxy.set({ kind: 'blackhole' });
      proxy.cutAll();
      const outageAt = Date.now();
      let openedAt = 0;
      const during: Promise<number | string>[] = [];
      for (let i = 0; !openedAt && Date.now() - outageAt < 20_000; i++) {
        during.push(upload(`hole/${i}.bin`, bytes(3000, i)).then((r) => (r.status === 201 ? 201 : `${r.status} ${r.body}`)));
        await new Promise((r) => setTimeout(r, 100));
        if (h.storage.resilience!.circuit.state === 'open') openedAt = Date.now();
      }
      expect(openedAt).toBeGreaterThan(0);
      const openMs = openedAt - outageAt;
      expect(openMs).toBeLessThanOrEqual(5000);
      const failFast = Date.now();
      expect((await upload('hole/fast.bin', bytes(3000, 9))).status).toBe(201);
      expect(Date.now() - failFast).toBeLessThan(2000); // no timeout waited: the breaker answers at once
      expect((await Promise.all(during)).filter((s) => s !== 201)).toEqual([]);
      // 4. The network heals: the probe closes the breaker and the outbox drains to MinIO.
      proxy.set({ kind: 'pass' });
      proxy.cutAll();
      await drained(h);
      for (let i = 0; i < during.length; i++) expect(await onMinio(`uploads/hole/${i}.bin`)).toBe(sha256(bytes(3000, i)));
      for (let i = 0; i < dropped.length; i++) expect(await onMinio(`uploads/drop/${i}.bin`)).toBe(sha256(dropped[i]!));
      const status = await client.status({ url: h.url });
      expect(status.circuit.state).toBe('closed');
      expect(status.circuit.opens).toBeGreaterThanOrEqual(1);
      expect(await h.storage.metrics.metrics()).toMatch(/bucketgate_circuit_state\{backend="s3"\} 0/);
      console.log(JSON.stringify({ droppedConnections: proxy.stats.dropped, breakerOpenedAfterMs: openMs, uploadsDuringOutage: during.length + 1 }));
    } finally {
      await h.stop();
    }
  });
});
