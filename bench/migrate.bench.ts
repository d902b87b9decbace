/**
 * Issue 7: migration from local disk to an S3-protocol server (MinIO started by the benchmark):
 * `bucketgate migrate --from local --to minio` against `rclone copy` of the same files, timed
 * round by round, interleaved. Two data sets, each in its own bucket folder: 1,000 files of
 * 64 KiB, and one file of 200 MiB. Every run copies into a fresh, empty target bucket (made
 * and removed untimed), so neither tool can skip anything.
 *
 * Both tools run as they ship, with their defaults: bucketgate 16 objects in flight (at most 4
 * over 1 MiB), rclone 4 transfers and 8 checkers (single PUT up to 200 MiB, 5 MiB chunks
 * above). The wall time of the whole command is measured, process start-up included.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_CONCURRENCY } from '../src/service/transfer.js';
import { SkipBench, defineBench } from './lib/bench.js';
import { findCommand, runQuiet } from './lib/commands.js';
import { bigFileBytes, freshDir, randomFile } from './lib/files.js';
import { MiB, interleave, pairedRatio } from './lib/measure.js';
import { type Cli, cliEnv, serviceCli } from './children/service-process.js';
import { type S3TestServer, rawClient } from '../test/servers/server.js';

const execFileAsync = promisify(execFile);
const SMALL_BYTES = 64 * 1024;
const REMOTE = 'BENCHMINIO';

function smallCount(): number {
  const n = Number(process.env.BENCH_MIGRATE_FILES);
  return Number.isInteger(n) && n > 0 ? n : 1000;
}

/** Every key and size in a bucket. */
async function listBucket(client: S3Client, bucket: string): Promise<Map<string, number>> {
  const all = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) all.set(o.Key!, o.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return all;
}

async function removeBucket(client: S3Client, bucket: string): Promise<void> {
  const keys = [...(await listBucket(client, bucket)).keys()];
  for (let i = 0; i < keys.length; i += 1000) {
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** A bucket folder of the local backend holding `files` (key → source path), written through the library. */
async function localBucket(name: string, files: Map<string, string>): Promise<string> {
  const { createLocalBackend } = await import('../src/backends/local/index.js');
  const root = await freshDir(name);
  const backend = await createLocalBackend({ root, fsync: false });
  const keys = [...files.keys()];
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(
      keys.slice(i, i + 16).map((key) => backend.put(key, createReadStream(files.get(key)!), { contentType: 'application/octet-stream' })),
    );
  }
  await runQuiet('sync', []); // written once, untimed: nothing dirty lands in a measurement
  return backend.root;
}

interface DataSet {
  label: string;
  /** The bucket folder (BHIV_BUCKET_PATH of the source). */
  root: string;
  /** The folder rclone copies: `<root>/uploads`, i.e. the keys `uploads/…`. */
  files: string;
  count: number;
  bytes: number;
}

export default defineBench({
  describe: 'migration local → MinIO: bucketgate migrate vs rclone copy, 1,000 × 64 KiB and one 200 MiB file',

  async missing() {
    return (await findCommand('rclone')) ? undefined : 'rclone not installed (apt-get install rclone)';
  },

  async run(ctx) {
    const { startMinio } = await import('../test/servers/minio.js');
    const cli: Cli = await serviceCli(ctx.log);
    const count = smallCount();
    const largeBytes = 2 * bigFileBytes(); // 200 MiB by default (BENCH_MIB scales it)

    // The two data sets, each in its own local bucket folder.
    ctx.log(`writing ${count} files of 64 KiB and one of ${largeBytes / MiB} MiB through the local backend`);
    const smallDir = await freshDir('migrate-small-src');
    const smallFiles = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const path = join(smallDir, `f${String(i).padStart(4, '0')}.bin`);
      await writeFile(path, randomBytes(SMALL_BYTES));
      smallFiles.set(`uploads/small/f${String(i).padStart(4, '0')}.bin`, path);
    }
    const largeSource = await randomFile(largeBytes);
    const sets: DataSet[] = [
      { label: `${count} files of 64 KiB`, root: await localBucket('migrate-small', smallFiles), files: '', count, bytes: count * SMALL_BYTES },
      { label: `one ${largeBytes / MiB} MiB file`, root: await localBucket('migrate-large', new Map([['uploads/large/big.bin', largeSource]])), files: '', count: 1, bytes: largeBytes },
    ];
    for (const set of sets) set.files = join(set.root, 'uploads');

    let minio: S3TestServer;
    try {
      minio = await startMinio({ bucket: `bench-mig-${randomBytes(3).toString('hex')}` });
    } catch (err) {
      throw new SkipBench(`MinIO would not start: ${err instanceof Error ? err.message : String(err)}`);
    }
    const client = rawClient(minio); // as the backend configures its own: path style, no checksum trailers
    const work = await freshDir('migrate-work');
    const rcloneEnv: NodeJS.ProcessEnv = {
      ...process.env,
      [`RCLONE_CONFIG_${REMOTE}_TYPE`]: 's3',
      [`RCLONE_CONFIG_${REMOTE}_PROVIDER`]: 'Minio',
      [`RCLONE_CONFIG_${REMOTE}_ENDPOINT`]: minio.endpoint,
      [`RCLONE_CONFIG_${REMOTE}_REGION`]: minio.region,
      [`RCLONE_CONFIG_${REMOTE}_ACCESS_KEY_ID`]: minio.accessKeyId,
      [`RCLONE_CONFIG_${REMOTE}_SECRET_ACCESS_KEY`]: minio.secretAccessKey,
      RCLONE_CONFIG: join(work, 'rclone.conf'), // none: the remote comes from the variables above
    };
    delete rcloneEnv.AWS_CA_BUNDLE;
    let runNo = 0;

    try {
      for (const set of sets) {
        let bucket = '';
        const fresh = async () => {
          bucket = `bench-mig-${runNo++}-${randomBytes(3).toString('hex')}`;
          await client.send(new CreateBucketCommand({ Bucket: bucket }));
        };
        // Untimed after each run: the target holds exactly the source's keys and sizes, then goes away.
        const checkAndDrop = async () => {
          const listed = await listBucket(client, bucket);
          const total = [...listed.values()].reduce((n, s) => n + s, 0);
          if (listed.size !== set.count || total !== set.bytes) throw new Error(`${bucket} holds ${listed.size} objects, ${total} bytes; expected ${set.count}, ${set.bytes}`);
          await removeBucket(client, bucket);
        };
        const migrate = async () => {
          const fromEnv = join(work, 'from.env');
          const toEnv = join(work, `to-${bucket}.env`);
          await writeFile(fromEnv, `BHIV_BUCKET_PATH=${set.root}\n`);
          await writeFile(
            toEnv,
            [
              `S3_BUCKET_NAME=${bucket}`,
              `S3_ENDPOINT_URL=${minio.endpoint}`,
              `S3_REGION=${minio.region}`,
              `AWS_ACCESS_KEY_ID=${minio.accessKeyId}`,
              `AWS_SECRET_ACCESS_KEY=${minio.secretAccessKey}`,
              `BHIV_BUCKET_PATH=${join(work, 'target-unused')}`,
              '',
            ].join('\n'),
          );
          return { fromEnv, toEnv, report: join(work, `report-${bucket}.json`) };
        };
        let files: { fromEnv: string; toEnv: string; report: string } | undefined;
        ctx.log(`${set.label}: ${ctx.runs} interleaved rounds`);
        const [bg, rc] = await interleave(
          [
            {
              name: 'bucketgate migrate',
              before: async () => {
                await fresh();
                files = await migrate();
              },
              run: async () => {
                const f = files!;
                await execFileAsync(
                  cli.command,
                  [...cli.prefix, 'migrate', '--from', 'local', '--from-env', f.fromEnv, '--to', 'minio', '--to-env', f.toEnv, '--json', '--report', f.report],
                  { cwd: work, env: cliEnv({}), maxBuffer: 16 << 20 },
                );
              },
              after: async () => {
                const report = JSON.parse(await readFile(files!.report, 'utf8')) as { totals: { copied: number; failed: number } };
                if (report.totals.copied !== set.count || report.totals.failed !== 0) throw new Error(`migrate copied ${report.totals.copied}, failed ${report.totals.failed}`);
                await checkAndDrop();
              },
            },
            {
              name: 'rclone copy',
              before: fresh,
              run: () => execFileAsync('rclone', ['copy', set.files, `${REMOTE}:${bucket}/uploads`], { env: rcloneEnv, maxBuffer: 16 << 20 }),
              after: checkAndDrop,
            },
          ],
          { runs: ctx.runs },
        );
        ctx.report({
          figure: `migrate ${set.label}`,
          subject: `bucketgate migrate, defaults: ${DEFAULT_CONCURRENCY} in flight (${cli.label})`,
          subjectValue: bg!.seconds.median,
          anchor: 'rclone copy (defaults)',
          anchorValue: rc!.seconds.median,
          unit: 's',
          ratio: pairedRatio(bg!.seconds, rc!.seconds),
          target: { on: 'ratio', op: '<=', value: set.count === 1 ? 1.1 : 1.0 },
          runs: ctx.runs,
          subjectStats: bg!.seconds,
          anchorStats: rc!.seconds,
          note: `${(set.bytes / MiB).toFixed(0)} MiB into a fresh bucket each run; wall time of the command, start-up included; ratio = time / rclone's time (lower is better)`,
        });
      }
    } finally {
      client.destroy();
      await minio.stop();
    }
  },
});
