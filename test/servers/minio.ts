import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.js';
import { provisionedBinary } from './provision.js';
import { answersHttp, spawnLogged, stopChild, tailOf, waitUntil } from './process.js';
import { type S3TestServer, createBucket } from './server.js';

/**
 * The MinIO binary, built once with `go install` (scripts/provision-minio.sh) and cached
 * outside the repository.
 */
export function ensureMinioBinary(): Promise<string> {
  return provisionedBinary('minio');
}

/**
 * Starts MinIO on a free 127.0.0.1 port with a temp data folder; `stop()` removes both.
 * `kms: true` gives it a built-in key, so SSE-S3 (`AES256`) works; `region` makes it check
 * the region requests are signed for.
 */
export async function startMinio(opts: { bucket?: string; kms?: boolean; region?: string } = {}): Promise<S3TestServer> {
  const binary = await ensureMinioBinary();
  const dir = await mkdtemp(join(tmpdir(), 'bucketgate-minio-'));
  const [port, consolePort] = [await freePort(), await freePort()];
  const accessKeyId = `bgtest${randomBytes(4).toString('hex')}`;
  const secretAccessKey = randomBytes(20).toString('hex');
  const endpoint = `http://127.0.0.1:${port}`;
  const log = join(dir, 'minio.log');
  const child = spawnLogged(binary, ['server', join(dir, 'data'), '--quiet', '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`], log, {
    ...process.env,
    MINIO_ROOT_USER: accessKeyId,
    MINIO_ROOT_PASSWORD: secretAccessKey,
    MINIO_BROWSER: 'off',
    MINIO_UPDATE: 'off',
    ...(opts.kms ? { MINIO_KMS_SECRET_KEY: `bucketgate-test:${randomBytes(32).toString('base64')}` } : {}),
    ...(opts.region ? { MINIO_SITE_REGION: opts.region } : {}),
  });
  const stop = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let exited = false;
    child.once('exit', () => (exited = true));
    const ready = async () => {
      const res = await fetch(`${endpoint}/minio/health/ready`, { signal: AbortSignal.timeout(2000) });
      return res.ok && (await answersHttp(endpoint));
    };
    await waitUntil('MinIO', 60_000, ready, () => exited).catch(async (err) => {
      throw new Error(`MinIO did not start (${(err as Error).message}):\n${await tailOf(log)}`);
    });
    const server = { endpoint, accessKeyId, secretAccessKey, region: opts.region ?? 'us-east-1', bucket: opts.bucket ?? `bg-test-${randomBytes(4).toString('hex')}`, name: 'minio', stop };
    await createBucket(server, server.bucket);
    return server;
  } catch (err) {
    await stop();
    throw err;
  }
}
