/**
 * The anchor of gateway.bench.ts's peak-RSS figure: a plain `node` process (no tsx, like the
 * service's dist build) with the AWS SDK loaded that uploads one file to S3 the way the
 * service's backend does by default (multipart, 8 MiB parts, 4 in flight), measured the same
 * way as the service: left to settle, peak reset, then the upload's own peak (VmHWM).
 * Plain JavaScript so it runs without a loader. Configuration from the environment:
 *   S3_ENDPOINT_URL S3_REGION S3_BUCKET_NAME AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 *   node s3-direct-upload.mjs <file> <key>
 * Prints one JSON line: { settledRss, peak } in bytes.
 */
import { Buffer } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadBucketCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

const PART = 8 * 1024 * 1024;
const QUEUE = 4;
const [file, key] = process.argv.slice(2);
const env = process.env;
const bucket = env.S3_BUCKET_NAME;
const client = new S3Client({
  endpoint: env.S3_ENDPOINT_URL,
  region: env.S3_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

const kib = (name) => Number(readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))[1]) * 1024;

// Warm (one request), then wait for V8's memory reducer as the service does (service-process.ts settle()).
await client.send(new HeadBucketCommand({ Bucket: bucket }));
const first = kib('VmRSS');
for (const started = Date.now(); Date.now() - started < 20_000; ) {
  await sleep(250);
  if (kib('VmRSS') < first * 0.85) {
    await sleep(1000);
    break;
  }
}
const settledRss = kib('VmRSS');
writeFileSync('/proc/self/clear_refs', '5');

const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/octet-stream' }));
const fh = await open(file, 'r');
try {
  const size = (await fh.stat()).size;
  const count = Math.max(1, Math.ceil(size / PART));
  const etags = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(QUEUE, count) }, async () => {
      while (next < count) {
        const index = next++;
        const length = Math.min(PART, size - index * PART);
        const body = Buffer.allocUnsafe(length);
        await fh.read(body, 0, length, index * PART);
        const out = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: body, ContentLength: length }));
        etags[index] = out.ETag;
      }
    }),
  );
  await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
} catch (err) {
  await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
  throw err;
} finally {
  await fh.close();
}
process.stdout.write(`${JSON.stringify({ settledRss, peak: kib('VmHWM') })}\n`);
client.destroy();
