import { createS3Backend } from '../../src/backends/s3/index.js';
import { bytes, sha256 } from '../../test/resilience/helpers.js';
import { type RestartableMinio, minioContents, openMultipartUploads } from '../../test/resilience/minio-restartable.js';
import { client } from '../../test/resilience/service-process.js';
import { type ServiceHandle, startService } from '../../test/support/service.js';

export { bytes, sha256, client, minioContents, openMultipartUploads };

/** The service (this process, the same stack `bucketgate serve` builds) over a MinIO primary. */
export async function serviceOverMinio(minio: RestartableMinio, env: Record<string, string> = {}, endpoint = minio.endpoint): Promise<ServiceHandle> {
  const h = await startService({
    backend: async () => ({
      backend: await createS3Backend({ bucket: minio.bucket, region: minio.region, endpoint, accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey, forcePathStyle: true, maxAttempts: 1, connectTimeoutMs: 1000, socketTimeoutMs: 5000 }),
    }),
    env: { MAX_UPLOAD_SIZE_MB: '16', BHIV_IDLE_TIMEOUT_MS: '60000', BHIV_RETRY_BASE_DELAY_MS: '20', BHIV_CIRCUIT_HALF_OPEN_MS: '500', BHIV_REPLAY_INTERVAL_MS: '200', ...env },
  });
  await h.storage.resilience!.start();
  return h;
}

export const as = (h: ServiceHandle) => ({ url: h.url, token: h.serviceToken });

export async function drained(h: ServiceHandle, ms = 120_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const st = await client.status({ url: h.url }).catch(() => undefined);
    if (st?.fallback?.pending === 0) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`outbox not drained: ${JSON.stringify(st?.fallback)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function metric(h: ServiceHandle, name: string, label?: string): Promise<number> {
  const text = await h.storage.metrics.getSingleMetricAsString(name).catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && (label === undefined || l.includes(label)))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

export async function pool<T>(items: T[], width: number, each: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < items.length; i = next++) await each(items[i]!, i);
    }),
  );
}

export const body = (i: number, max = 200_000) => bytes(1000 + ((i * 7919) % max), i);
