import { type ChildProcess } from 'node:child_process';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMinioBinary } from '../servers/minio.js';
import { spawnLogged, stopChild, tailOf, waitUntil } from '../servers/process.js';
import { createBucket } from '../servers/server.js';
import { freePort } from '../support/ports.js';
import { sha256 } from './helpers.js';

/**
 * MinIO that can be stopped and started again on the same port and data folder, to play an
 * outage of the primary. (test/servers/minio.ts removes its data when it stops.)
 */
export interface RestartableMinio {
  endpoint: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  bucket: string;
  running(): boolean;
  /** SIGKILL: as abrupt as an outage gets. */
  kill(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startRestartableMinio(): Promise<RestartableMinio> {
  const binary = await ensureMinioBinary();
  const dir = await mkdtemp(join(tmpdir(), 'bg-minio-'));
  const [port, consolePort] = [await freePort(), await freePort()];
  const accessKeyId = `bgres${randomBytes(4).toString('hex')}`;
  const secretAccessKey = randomBytes(20).toString('hex');
  const endpoint = `http://127.0.0.1:${port}`;
  const log = join(dir, 'minio.log');
  let child: ChildProcess | undefined;
  let exited = true;
  const start = async () => {
    child = spawnLogged(binary, ['server', join(dir, 'data'), '--quiet', '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`], log, {
      ...process.env,
      MINIO_ROOT_USER: accessKeyId,
      MINIO_ROOT_PASSWORD: secretAccessKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
    });
    exited = false;
    child.once('exit', () => (exited = true));
    const ready = async () => (await fetch(`${endpoint}/minio/health/ready`, { signal: AbortSignal.timeout(2000) })).ok;
    await waitUntil('MinIO', 60_000, ready, () => exited).catch(async (err) => {
      throw new Error(`MinIO did not start (${(err as Error).message}):\n${await tailOf(log)}`);
    });
  };
  await start();
  const server = { endpoint, port, accessKeyId, secretAccessKey, region: 'us-east-1', bucket: `bg-res-${randomBytes(4).toString('hex')}` };
  await createBucket(server, server.bucket);
  return {
    ...server,
    running: () => !exited,
    async kill() {
      if (child && !exited) {
        const gone = new Promise((r) => child!.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      }
    },
    start,
    async destroy() {
      if (child && !exited) await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** SHA-256 of every object under `prefix` on MinIO itself, bypassing the service. */
export async function minioContents(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      out.set(o.Key!, sha256(Buffer.from(await r.Body!.transformToByteArray())));
    }
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

export async function openMultipartUploads(s3: S3Client, bucket: string): Promise<number> {
  const r = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return r.Uploads?.length ?? 0;
}

