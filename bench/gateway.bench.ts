/**
 * Issue 9: the gateway's overhead over S3. A MinIO started by the benchmark; the same
 * operations through the service (`bucketgate serve`, BHIV_STORAGE_BACKEND=minio, its own
 * process) and with the AWS SDK directly against the same server, interleaved round by round.
 * The direct upload is a multipart upload made with the SDK's commands, with the part size and
 * queue the service's backend uses by default (8 MiB, 4 in flight), so the ratio is the
 * gateway's cost, not a tuning difference.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SkipBench, defineBench } from './lib/bench.js';
import { freshDir, randomFile, removeQuietly } from './lib/files.js';
import { CpuTally } from './lib/cpu.js';
import { uploadFile } from './lib/http-client.js';
import { MiB, interleave, median, pairedRatio, stats, throughput } from './lib/measure.js';
import { runWrk, wrkMissing } from './lib/wrk.js';
import { type ServiceProcess, cliEnv, serviceCli, serviceDownload, startServiceProcess } from './children/service-process.js';
import { type S3TestServer, rawClient } from '../test/servers/server.js';

const execFileAsync = promisify(execFile);
const directChild = fileURLToPath(new URL('./children/s3-direct-upload.mjs', import.meta.url));
const PART_BYTES = 5 * MiB; // the S3 backend's defaults (S3_PART_SIZE_MB, S3_QUEUE_SIZE)
const QUEUE = 4;
const SMALL_SECONDS = 5;
const CONNECTIONS = 32;

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Drains a body with 'data' events (as lib/http-client.ts does), returning its byte count. */
function drain(body: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    body.on('data', (chunk: Buffer) => (bytes += chunk.length));
    body.once('end', () => resolve(bytes));
    body.once('error', reject);
  });
}

function minioEnv(server: S3TestServer): Record<string, string> {
  return {
    BHIV_STORAGE_BACKEND: 'minio',
    S3_BUCKET_NAME: server.bucket,
    S3_ENDPOINT_URL: server.endpoint,
    S3_REGION: server.region,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
  };
}

/**
 * The direct anchor: a multipart upload of a file with plain SDK commands, parts read from disk
 * and sent `QUEUE` at a time (what @aws-sdk/lib-storage does, without the dependency).
 */
async function sdkMultipartUpload(client: S3Client, bucket: string, key: string, path: string): Promise<void> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/octet-stream' }));
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const count = Math.max(1, Math.ceil(size / PART_BYTES));
    const etags: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(QUEUE, count) }, async () => {
        while (next < count) {
          const index = next++;
          const start = index * PART_BYTES;
          const length = Math.min(PART_BYTES, size - start);
          const body = Buffer.allocUnsafe(length);
          const { bytesRead } = await fh.read(body, 0, length, start);
          if (bytesRead !== length) throw new Error(`short read of part ${index + 1}`);
          const out = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: body, ContentLength: length }));
          etags[index] = out.ETag!;
        }
      }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
  } catch (err) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
    throw err;
  } finally {
    await fh.close();
  }
}

/** Requests/s of `concurrency` loops each doing `op` back to back for `seconds`. */
async function closedLoop(op: () => Promise<unknown>, concurrency: number, seconds: number): Promise<number> {
  const stopAt = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const started = process.hrtime.bigint();
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (process.hrtime.bigint() < stopAt) {
        await op();
        done++;
      }
    }),
  );
  return done / (Number(process.hrtime.bigint() - started) / 1e9);
}

export default defineBench({
  describe: 'gateway over MinIO: 100 MiB upload/download and 4 KiB GETs through the service vs the AWS SDK directly; peak RSS of a 100 MiB upload',

  async missing() {
    return wrkMissing();
  },

  async run(ctx) {
    const { startMinio } = await import('../test/servers/minio.js');
    const source = await randomFile();
    const bytes = (await stat(source)).size;
    const sizeLabel = `${bytes / MiB} MiB`;
    const sourceSha = await sha256Of(source);
    const cli = await serviceCli(ctx.log);
    let minio: S3TestServer;
    try {
      minio = await startMinio({ bucket: `bench-gw-${randomBytes(3).toString('hex')}` });
    } catch (err) {
      throw new SkipBench(`MinIO would not start: ${err instanceof Error ? err.message : String(err)}`);
    }
    const client = rawClient(minio); // as the backend configures its own: path style, no checksum trailers
    let svc: ServiceProcess | undefined;
    try {
      svc = await startServiceProcess({ name: 'gateway', env: minioEnv(minio), log: ctx.log });
      const service = svc;
      ctx.log(`MinIO on ${minio.endpoint}, bucket ${minio.bucket}; service (${cli.label}, pid ${service.pid}) on ${service.url}`);

      // One object for the download figures, put there by the service (so it is in its catalog).
      const big = await service.upload(source, 'big.bin');
      if (big.sha256 !== undefined && big.sha256 !== sourceSha) throw new Error('the service stored other bytes than were sent');

      // Upload 100 MiB
      let target = '';
      let lastId: string | undefined;
      let round = 0;
      const directKey = 'uploads/direct/big.bin';
      // CPU per upload, to tell a CPU-bound machine from a slow path (MinIO's own share not counted).
      const cpu = { service: new CpuTally(service.pid), sdk: new CpuTally() };
      ctx.log(`upload ${sizeLabel}: ${ctx.runs} interleaved rounds`);
      const [svcPut, sdkPut] = (
        await interleave(
          [
            cpu.service.track({
              name: 'service upload',
              before: async () => {
                if (lastId) await service.remove(lastId);
                target = await service.uploadUrl(`up-${round++}.bin`, bytes);
              },
              run: async () => {
                const res = await uploadFile(target, source, { method: 'POST', expect: (s) => s === 201 });
                lastId = (JSON.parse(res.text) as { id: string }).id;
              },
            }),
            cpu.sdk.track({
              name: 'SDK upload',
              before: async () => {
                await client.send(new DeleteObjectCommand({ Bucket: minio.bucket, Key: directKey }));
              },
              run: () => sdkMultipartUpload(client, minio.bucket, directKey, source),
            }),
          ],
          { runs: ctx.runs },
        )
      ).map((r) => throughput(bytes, r.seconds));
      if (lastId) await service.remove(lastId);
      ctx.report({
        figure: `upload ${sizeLabel} over MinIO`,
        subject: 'service POST /cdn/upload/{token} → MinIO (SHA-256, multipart)',
        subjectValue: svcPut!.median,
        anchor: 'AWS SDK multipart upload from the file',
        anchorValue: sdkPut!.median,
        unit: 'MiB/s',
        ratio: pairedRatio(svcPut!, sdkPut!),
        target: { on: 'ratio', op: '>=', value: 0.85 },
        runs: ctx.runs,
        subjectStats: svcPut,
        anchorStats: sdkPut,
        note: `both multipart, ${PART_BYTES / MiB} MiB parts, ${QUEUE} in flight; the service also streams the body over HTTP, hashes it and records it in its catalog; CPU per upload (medians): service ${median(cpu.service.server).toFixed(0)} ms + its HTTP client ${median(cpu.service.client).toFixed(0)} ms, direct SDK ${median(cpu.sdk.client).toFixed(0)} ms`,
      });

      // Download 100 MiB
      ctx.log(`download ${sizeLabel}: ${ctx.runs} interleaved rounds`);
      const downCpu = { service: new CpuTally(service.pid), sdk: new CpuTally() };
      const [svcGet, sdkGet] = (
        await interleave(
          [
            downCpu.service.track({
              name: 'service GET',
              run: () => serviceDownload(service, big.id, bytes),
            }),
            downCpu.sdk.track({
              name: 'SDK GetObject',
              run: async () => {
                const out = await client.send(new GetObjectCommand({ Bucket: minio.bucket, Key: big.key }));
                const got = await drain(out.Body as Readable);
                if (got !== bytes) throw new Error(`GetObject returned ${got} bytes`);
              },
            }),
          ],
          { runs: ctx.runs },
        )
      ).map((r) => throughput(bytes, r.seconds));
      ctx.report({
        figure: `download ${sizeLabel} over MinIO`,
        subject: 'service GET /cdn/download/{id} ← MinIO',
        subjectValue: svcGet!.median,
        anchor: 'AWS SDK GetObject, body drained',
        anchorValue: sdkGet!.median,
        unit: 'MiB/s',
        ratio: pairedRatio(svcGet!, sdkGet!),
        target: { on: 'ratio', op: '>=', value: 0.85 },
        runs: ctx.runs,
        subjectStats: svcGet,
        anchorStats: sdkGet,
        note: `the same object; the service adds one HTTP hop (client ↔ service) in front of the same GetObject; CPU per download (medians): service ${median(downCpu.service.server).toFixed(0)} ms + its HTTP client ${median(downCpu.service.client).toFixed(0)} ms, direct SDK ${median(downCpu.sdk.client).toFixed(0)} ms`,
      });

      // 4 KiB GETs, 32 at a time: wrk through the service vs 32 SDK GetObject loops in this process.
      const small = randomBytes(4096);
      const smallPath = join(await freshDir('gateway-small'), 'small.bin');
      await writeFile(smallPath, small);
      const smallObject = await service.upload(smallPath, 'small.bin');
      const smallRuns = Math.min(ctx.runs, 5);
      const sdkSmall = async () => {
        const out = await client.send(new GetObjectCommand({ Bucket: minio.bucket, Key: smallObject.key }));
        if ((await drain(out.Body as Readable)) !== 4096) throw new Error('GetObject of the small object was short');
      };
      const smallUrl = `${service.url}/cdn/download/${smallObject.id}`;
      ctx.log(`4 KiB: ${smallRuns} alternating pairs of ${SMALL_SECONDS} s at ${CONNECTIONS} in flight`);
      await runWrk(smallUrl, { duration: '1s', headers: service.authHeader }); // warm-up
      await closedLoop(sdkSmall, CONNECTIONS, 1);
      const svcRps: number[] = [];
      const sdkRps: number[] = [];
      for (let i = 0; i < smallRuns; i++) {
        const pair = [
          async () => svcRps.push((await runWrk(smallUrl, { duration: `${SMALL_SECONDS}s`, connections: CONNECTIONS, headers: service.authHeader })).requestsPerSec),
          async () => sdkRps.push(await closedLoop(sdkSmall, CONNECTIONS, SMALL_SECONDS)),
        ];
        for (const step of i % 2 === 0 ? pair : pair.reverse()) await step();
      }
      const svcRpsStats = stats(svcRps);
      const sdkRpsStats = stats(sdkRps);
      ctx.report({
        figure: `4 KiB download over MinIO, ${CONNECTIONS} in flight`,
        subject: 'service GET /cdn/download/{id}, wrk',
        subjectValue: svcRpsStats.median,
        anchor: `AWS SDK GetObject, ${CONNECTIONS} loops in one process`,
        anchorValue: sdkRpsStats.median,
        unit: 'req/s',
        ratio: pairedRatio(svcRpsStats, sdkRpsStats),
        runs: smallRuns,
        subjectStats: svcRpsStats,
        anchorStats: sdkRpsStats,
        note: 'informational (issue 9 sets no target for small objects); MinIO, the service and the clients share the 2 cores',
      });
    } finally {
      await svc?.stop();
    }

    try {
      // Peak RSS during one 100 MiB upload to MinIO: a fresh service per round, warmed by one
      // small upload and download, left to settle, then its peak reset (see http.bench.ts).
      // Anchor: a bare node process with the AWS SDK doing the same multipart upload, measured
      // the same way (children/s3-direct-upload.mjs): the floor of "Node + SDK + 4 × 8 MiB parts".
      const rssRuns = Math.min(ctx.runs, 5);
      ctx.log(`peak RSS: ${rssRuns} rounds of a fresh service with one ${sizeLabel} upload, and of the bare SDK`);
      const warmPath = join(await freshDir('gateway-rss-small'), 'warm.bin');
      await writeFile(warmPath, randomBytes(4096));
      const peaks: number[] = [];
      const directPeaks: number[] = [];
      const settled: number[] = [];
      const directSettled: number[] = [];
      const lifetime: number[] = [];
      const viaService = async (round: number) => {
        const rssSvc = await startServiceProcess({ name: `gateway-rss-${round}`, env: minioEnv(minio), log: ctx.log });
        try {
          const warm = await rssSvc.upload(warmPath, `warm-${round}.bin`);
          await serviceDownload(rssSvc, warm.id, 4096);
          settled.push((await rssSvc.settle()) / MiB);
          lifetime.push((await rssSvc.memory()).peak / MiB);
          const url = await rssSvc.uploadUrl(`rss-${round}.bin`, bytes);
          await rssSvc.resetPeak();
          const res = await uploadFile(url, source, { method: 'POST', expect: (s) => s === 201 });
          peaks.push((await rssSvc.memory()).peak / MiB);
          const stored = JSON.parse(res.text) as { id: string; size: number };
          if (stored.size !== bytes) throw new Error(`the upload stored ${stored.size} bytes`);
          await rssSvc.remove(stored.id);
          await rssSvc.remove(warm.id);
        } finally {
          await rssSvc.stop();
          removeQuietly(rssSvc.bucketPath);
        }
      };
      const direct = async (round: number) => {
        const { stdout } = await execFileAsync(process.execPath, [directChild, source, `direct/rss-${round}.bin`], { env: cliEnv(minioEnv(minio)), maxBuffer: 1 << 20 });
        const out = JSON.parse(stdout.trim().split('\n').pop()!) as { settledRss: number; peak: number };
        directSettled.push(out.settledRss / MiB);
        directPeaks.push(out.peak / MiB);
      };
      for (let round = 0; round < rssRuns; round++) {
        const pair = [() => viaService(round), () => direct(round)];
        for (const step of round % 2 === 0 ? pair : pair.reverse()) await step();
      }
      const peakStats = stats(peaks);
      const directStats = stats(directPeaks);
      ctx.report({
        figure: `peak RSS, ${sizeLabel} upload over MinIO`,
        subject: `service process (${cli.label}), highest of ${rssRuns} rounds`,
        subjectValue: peakStats.max,
        anchor: 'bare node + AWS SDK, same multipart upload, highest',
        anchorValue: directStats.max,
        unit: 'MiB',
        target: { on: 'subject', op: '<', value: 150 },
        runs: rssRuns,
        subjectStats: peakStats,
        anchorStats: directStats,
        note: `VmHWM during the upload (reset once the process had settled); medians: service ${median(peaks).toFixed(1)} MiB (settled before it ${median(settled).toFixed(1)} MiB, start-up peak ${median(lifetime).toFixed(1)} MiB), bare SDK ${median(directPeaks).toFixed(1)} MiB (settled ${median(directSettled).toFixed(1)} MiB)`,
      });
    } finally {
      client.destroy();
      await minio.stop();
    }
  },
});
