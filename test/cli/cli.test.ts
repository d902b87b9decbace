import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../../src/backends/local/index.js';
import { createS3Backend } from '../../src/backends/s3/index.js';
import type { Backend } from '../../src/core/backend.js';
import { startMinio } from '../servers/minio.js';
import { type S3TestServer, createBucket, rawClient } from '../servers/server.js';
import { type SupabaseServer, startSupabaseServer } from '../supabase/server.js';
import { cli, startCli } from './run.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const execFileAsync = promisify(execFile);

async function readAll(backend: Backend, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of (await backend.get(key)).body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function contents(backend: Backend, segments: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const segment of segments) {
    let cursor: string | undefined;
    do {
      const page = await backend.list(`${segment}/`, { cursor, limit: 1000 });
      for (const o of page.objects) {
        const { body } = await backend.get(o.key);
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(c);
        out[o.key] = `${o.contentType} ${sha(Buffer.concat(chunks))}`;
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return out;
}

const envFile = async (dir: string, name: string, vars: Record<string, string>) => {
  const path = join(dir, name);
  await writeFile(path, Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n'));
  return path;
};

describe('bucketgate CLI against real backends', () => {
  let dir: string;
  let minio: S3TestServer;
  let supabase: SupabaseServer;
  let source: Backend;
  let env: { local: string; s3: string; s3Fresh: string; supabase: string; back: string; unreachable: string };
  const SEGMENTS = ['uploads', 'videos', 'scripts'];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bg-cli-'));
    [minio, supabase] = await Promise.all([startMinio({ bucket: 'cli-round-trip' }), startSupabaseServer({ bucket: 'cli-target' })]);
    await createBucket(minio, 'cli-resume');
    const s3Vars = { S3_ENDPOINT_URL: minio.endpoint, S3_REGION: minio.region, AWS_ACCESS_KEY_ID: minio.accessKeyId, AWS_SECRET_ACCESS_KEY: minio.secretAccessKey };
    env = {
      local: await envFile(dir, 'local.env', { BHIV_BUCKET_PATH: join(dir, 'source') }),
      s3: await envFile(dir, 's3.env', { ...s3Vars, S3_BUCKET_NAME: minio.bucket }),
      s3Fresh: await envFile(dir, 's3-resume.env', { ...s3Vars, S3_BUCKET_NAME: 'cli-resume' }),
      supabase: await envFile(dir, 'supabase.env', { SUPABASE_URL: supabase.url, SUPABASE_KEY: supabase.anonKey, SUPABASE_SERVICE_ROLE_KEY: supabase.serviceKey, SUPABASE_BUCKET_NAME: supabase.bucket }),
      back: await envFile(dir, 'back.env', { BHIV_BUCKET_PATH: join(dir, 'back') }),
      unreachable: await envFile(dir, 'down.env', { ...s3Vars, S3_ENDPOINT_URL: 'http://127.0.0.1:9', S3_BUCKET_NAME: 'nowhere' }),
    };
    source = await createLocalBackend({ root: join(dir, 'source'), fsync: false });
    const files: [string, string, number][] = [
      ['uploads/a.bin', 'application/octet-stream', 70_000],
      ['uploads/deep/er/b c.txt', 'text/plain', 12],
      ['uploads/empty.bin', 'application/octet-stream', 0],
      ['videos/clip.mp4', 'video/mp4', 1_500_000],
      ['scripts/scène.txt', 'text/plain', 333],
    ];
    for (const [key, type, size] of files) await source.put(key, Readable.from([randomBytes(size)]), { contentType: type, metadata: { origin: 'cli-test' } });
    for (let i = 0; i < 40; i++) await source.put(`scripts/many/f${String(i).padStart(2, '0')}.txt`, Readable.from([randomBytes(200_000)]), { contentType: 'text/plain' });
  }, 300_000);

  afterAll(async () => {
    await source?.close();
    await Promise.allSettled([minio?.stop(), supabase?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('migrates local → S3 → Supabase-compatible → local with every byte and type intact', async () => {
    const hops: [string, string, string, string][] = [
      ['local', env.local, 'minio', env.s3],
      ['minio', env.s3, 'supabase', env.supabase],
      ['supabase', env.supabase, 'local', env.back],
    ];
    for (const [from, fromEnv, to, toEnv] of hops) {
      const r = await cli(['migrate', '--from', from, '--from-env', fromEnv, '--to', to, '--to-env', toEnv, '--verify', '--json', '--report', join(dir, `${from}-${to}.json`)], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary.totals).toMatchObject({ copied: 45, failed: 0 });
      const report = JSON.parse(await readFile(join(dir, `${from}-${to}.json`), 'utf8'));
      expect(report.items).toHaveLength(45);
    }
    const back = await createLocalBackend({ root: join(dir, 'back'), fsync: false });
    try {
      expect(await contents(back, SEGMENTS)).toEqual(await contents(source, SEGMENTS));
      expect((await back.head('uploads/a.bin')).metadata.origin).toBe('cli-test');
    } finally {
      await back.close();
    }
  });

  it('skips what is already identical on a second run', async () => {
    const r = await cli(['migrate', '--from', 'local', '--from-env', env.local, '--to', 'minio', '--to-env', env.s3, '--json', '--report', join(dir, 'again.json')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).totals).toMatchObject({ copied: 0, skipped: 45, failed: 0 });
  });

  it('finishes a migration killed half way, with nothing missing or duplicated', async () => {
    const target = await createS3Backend({ bucket: 'cli-resume', region: minio.region, endpoint: minio.endpoint, forcePathStyle: true, accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey });
    try {
      const child = startCli(['migrate', '--from', 'local', '--from-env', env.local, '--to', 'minio', '--to-env', env.s3Fresh, '--concurrency', '1', '--report', join(dir, 'killed.json')], { cwd: dir });
      const exited = new Promise((r) => child.on('exit', r));
      for (let i = 0; i < 400; i++) {
        const page = await target.list('scripts/', { limit: 1000 });
        if (page.objects.length >= 5) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      child.kill('SIGKILL');
      await exited;
      const partial = (await target.list('scripts/', { limit: 1000 })).objects.length;
      expect(partial).toBeLessThan(41);
      const r = await cli(['migrate', '--from', 'local', '--from-env', env.local, '--to', 'minio', '--to-env', env.s3Fresh, '--json', '--report', join(dir, 'resumed.json')], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const totals = JSON.parse(r.stdout).totals;
      expect(totals.failed).toBe(0);
      expect(totals.copied + totals.skipped).toBe(45);
      expect(totals.skipped).toBeGreaterThanOrEqual(partial - 1);
      expect(await contents(target, SEGMENTS)).toEqual(await contents(source, SEGMENTS));
    } finally {
      await target.close();
    }
  });

  it("--reindex brings the target's catalog in line with what was copied, and is refused on a shared catalog", async () => {
    const targetEnv = await envFile(dir, 'indexed.env', { BHIV_BUCKET_PATH: join(dir, 'indexed') });
    const stats = async () => JSON.parse((await cli(['stats', '--json'], { cwd: dir, env: { BHIV_BUCKET_PATH: join(dir, 'indexed') } })).stdout).total;
    const args = ['migrate', '--from', 'local', '--from-env', env.local, '--to', 'local', '--to-env', targetEnv, '--segment', 'uploads', '--json'];
    const plain = await cli([...args, '--report', join(dir, 'plain.json')], { cwd: dir });
    expect(plain.code, plain.stderr).toBe(0);
    expect(await stats()).toEqual({ count: 0, bytes: 0 }); // copying bytes leaves the catalog alone
    const uploads = (await source.list('uploads/', { limit: 1000 })).objects;
    const indexed = await cli([...args, '--reindex', '--report', join(dir, 'indexed.json')], { cwd: dir });
    expect(indexed.code, indexed.stderr).toBe(0);
    expect(JSON.parse(indexed.stdout).reindexed).toEqual({ objects: uploads.length, bytes: uploads.reduce((n, o) => n + o.size, 0), removed: 0 });
    expect(await stats()).toEqual({ count: uploads.length, bytes: uploads.reduce((n, o) => n + o.size, 0) });
    const sharing = async (name: string, file: string) => {
      await writeFile(join(dir, name), `${await readFile(file, 'utf8')}\nDATABASE_URL=${join(dir, 'shared.sqlite')}\n`);
      return join(dir, name);
    };
    const shared = await cli(['migrate', '--from', 'local', '--from-env', await sharing('shared-from.env', env.local), '--to', 'minio', '--to-env', await sharing('shared-to.env', env.s3), '--reindex'], { cwd: dir });
    expect(shared.code).toBe(2);
    expect(shared.stderr).toMatch(/--reindex: the source and the target share one catalog/);
    // Checked before anything is copied: with --dry-run (refused), and a catalog that cannot be reached (exit 3).
    const dry = await cli([...args, '--reindex', '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(2);
    expect(dry.stderr.trim().split('\n')).toHaveLength(1);
    const unreachable = await envFile(dir, 'no-catalog.env', { BHIV_BUCKET_PATH: join(dir, 'no-catalog'), DATABASE_URL: 'postgres://bg@127.0.0.1:9/none' });
    const down = await cli(['migrate', '--from', 'local', '--from-env', env.local, '--to', 'local', '--to-env', unreachable, '--reindex', '--report', join(dir, 'down-catalog.json')], { cwd: dir });
    expect(down.code, down.stderr).toBe(3);
    for (const segment of SEGMENTS) expect(await readdir(join(dir, 'no-catalog', segment)).catch(() => [])).toEqual([]); // nothing copied
  });

  it('syncs only changes, and mirrors deletes with --delete', async () => {
    await source.put('uploads/new.txt', Readable.from([Buffer.from('new')]), { contentType: 'text/plain' });
    await source.delete('uploads/a.bin');
    const dry = await cli(['sync', '--from-env', env.local, '--to', 'minio', '--to-env', env.s3, '--delete', '--dry-run', '--json', '--report', join(dir, 'dry.json')], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).totals).toMatchObject({ 'would-copy': 1, 'would-delete': 1 });
    const r = await cli(['sync', '--from-env', env.local, '--to', 'minio', '--to-env', env.s3, '--delete', '--json', '--report', join(dir, 'sync.json')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).totals).toMatchObject({ copied: 1, deleted: 1, skipped: 44, failed: 0 });
  });

  it('gives one clear line and a non-zero exit for bad flags and unreachable backends', async () => {
    const bad = await cli(['migrate', '--from', 'ftp', '--to', 'local'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('expected one of local, s3, minio, supabase');
    const missing = await cli(['migrate', '--from', 'local'], { cwd: dir });
    expect(missing.code).toBe(2);
    const unknown = await cli(['frobnicate'], { cwd: dir });
    expect(unknown.code).toBe(2);
    const conc = await cli(['migrate', '--from', 'local', '--from-env', env.local, '--to', 'minio', '--to-env', env.s3, '--concurrency', '0'], { cwd: dir });
    expect(conc.code).toBe(2);
    expect(conc.stderr.trim().split('\n')).toHaveLength(1);
    const down = await cli(['test-connection', '--backend', 'minio', '--json'], { cwd: dir, env: Object.fromEntries((await readFile(env.unreachable, 'utf8')).split('\n').map((l) => l.split('=', 2) as [string, string])) });
    expect(down.code).toBe(3);
    const report = JSON.parse(down.stdout);
    expect(report.backends[0].ok).toBe(false);
    expect(report.backends[0].message).toMatch(/reach|connect|refused/i);
    const migrateDown = await cli(['migrate', '--from', 'local', '--from-env', env.local, '--to', 'minio', '--to-env', env.unreachable, '--report', join(dir, 'down.json')], { cwd: dir });
    expect(migrateDown.code).not.toBe(0);
  });

  it('never deletes a source it has not proven copied: one store named twice, a target changed behind its back', async () => {
    const strictDir = join(dir, 'strict');
    const local = await envFile(dir, 'strict.env', { BHIV_BUCKET_PATH: strictDir });
    const sameAgain = await envFile(dir, 'strict-again.env', { BHIV_BUCKET_PATH: `${strictDir}/./` });
    const bucket = await createLocalBackend({ root: strictDir, fsync: false });
    const original = randomBytes(50_000);
    await bucket.put('uploads/keep.bin', Readable.from([original]));
    const same = await cli(['migrate', '--from', 'local', '--from-env', local, '--to', 'local', '--to-env', sameAgain, '--delete-source'], { cwd: dir });
    expect(same.code, same.stderr).toBe(2);
    expect(same.stderr).toMatch(/same store/);
    expect(sha(await readAll(bucket, 'uploads/keep.bin'))).toBe(sha(original));
    // On the target, another tool overwrote the copy with bytes of the same size and no checksum.
    await createBucket(minio, 'cli-strict');
    const target = await envFile(dir, 'strict-s3.env', { S3_ENDPOINT_URL: minio.endpoint, S3_REGION: minio.region, AWS_ACCESS_KEY_ID: minio.accessKeyId, AWS_SECRET_ACCESS_KEY: minio.secretAccessKey, S3_BUCKET_NAME: 'cli-strict' });
    expect((await cli(['sync', '--from-env', local, '--to', 'minio', '--to-env', target, '--report', join(dir, 'strict1.json')], { cwd: dir })).code).toBe(0);
    await rawClient(minio).send(new PutObjectCommand({ Bucket: 'cli-strict', Key: 'uploads/keep.bin', Body: randomBytes(50_000) }));
    const moved = await cli(['migrate', '--from', 'local', '--from-env', local, '--to', 'minio', '--to-env', target, '--delete-source', '--json', '--report', join(dir, 'strict2.json')], { cwd: dir });
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout).totals).toMatchObject({ copied: 1, skipped: 0, sourceDeleted: 1 });
    const s3 = await createS3Backend({ bucket: 'cli-strict', endpoint: minio.endpoint, region: minio.region, accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey, forcePathStyle: true });
    expect(sha(await readAll(s3, 'uploads/keep.bin'))).toBe(sha(original));
    await s3.close();
    await bucket.close();
  });

  it('refuses a source folder that does not exist, and a report path it cannot write, before anything moves', async () => {
    const typo = await envFile(dir, 'typo.env', { BHIV_BUCKET_PATH: join(dir, 'no-such-bucket') });
    const mirror = await cli(['sync', '--from-env', typo, '--to', 'minio', '--to-env', env.s3, '--delete'], { cwd: dir });
    expect(mirror.code, mirror.stderr).toBe(2);
    expect(mirror.stderr).toMatch(/does not exist/);
    expect(await readdir(join(dir, 'no-such-bucket')).catch(() => 'absent')).toBe('absent');
    const before = await contents(await createS3Backend({ bucket: minio.bucket, endpoint: minio.endpoint, region: minio.region, accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey, forcePathStyle: true }), ['uploads']);
    const report = await cli(['sync', '--from-env', env.local, '--to', 'minio', '--to-env', env.s3, '--delete', '--report', '/nonexistent/r.json'], { cwd: dir });
    expect(report.code).toBe(2);
    expect(report.stderr).toMatch(/--report/);
    expect(await contents(await createS3Backend({ bucket: minio.bucket, endpoint: minio.endpoint, region: minio.region, accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey, forcePathStyle: true }), ['uploads'])).toEqual(before);
  });

  it('cp: keeps a file it could not download whole, applies segment rules within the store, reports an outage', async () => {
    const bucket = join(dir, 'cp-rules');
    const e = { BHIV_BUCKET_PATH: bucket, BHIV_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    const big = join(dir, 'big.bin');
    await writeFile(big, randomBytes(3 << 20));
    expect((await cli(['cp', big, 'bg://uploads/big.bin'], { cwd: dir, env: e })).code).toBe(0);
    // A byte flipped deep in the stored file (its time put back): the download fails part way.
    const stored = join(bucket, 'uploads/big.bin');
    const { mtimeNs } = await stat(stored, { bigint: true });
    const fh = await open(stored, 'r+');
    await fh.write(Buffer.from([0xff]), 0, 1, 2_500_000);
    await fh.close();
    await execFileAsync('touch', ['-m', '-d', `@${mtimeNs / 1_000_000_000n}.${String(mtimeNs % 1_000_000_000n).padStart(9, '0')}`, stored]);
    const dest = join(dir, 'precious.bin');
    await writeFile(dest, 'precious');
    const failed = await cli(['cp', 'bg://uploads/big.bin', dest], { cwd: dir, env: e });
    expect(failed.code).not.toBe(0);
    expect(await readFile(dest, 'utf8')).toBe('precious');
    expect((await readdir(dir)).filter((n) => n.includes('bg-download'))).toEqual([]);
    // Within the store, the target segment's rules hold as for an upload.
    await writeFile(join(dir, 'notes.txt'), 'plain text');
    expect((await cli(['cp', join(dir, 'notes.txt'), 'bg://uploads/notes.txt'], { cwd: dir, env: e })).code).toBe(0);
    const wrongType = await cli(['cp', 'bg://uploads/notes.txt', 'bg://videos/notes.mp4'], { cwd: dir, env: e });
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr).toMatch(/UnsupportedType/);
    // To standard output, the object alone; what is said about it goes to standard error.
    const out = await cli(['cp', 'bg://uploads/notes.txt', '-', '--json'], { cwd: dir, env: e });
    expect(out.stdout).toBe('plain text');
    expect(JSON.parse(out.stderr).size).toBe(10);
    expect((await cli(['cp', '-', 'bg://uploads/'], { cwd: dir, env: e })).code).toBe(2);
    expect((await cli(['cp', dir, 'bg://uploads/dir.bin'], { cwd: dir, env: e })).stderr).toMatch(/not a regular file/);
    // An unreachable store is reported (exit 3); nothing waits in a fallback no one replays.
    const down = Object.fromEntries((await readFile(env.unreachable, 'utf8')).split('\n').map((l) => l.split('=', 2) as [string, string]));
    const outage = await cli(['cp', join(dir, 'notes.txt'), 'bg://uploads/notes.txt'], { cwd: dir, env: { ...down, BHIV_STORAGE_BACKEND: 'minio', BHIV_BUCKET_PATH: join(dir, 'outage'), BHIV_RETRY_ATTEMPTS: '1' } });
    expect(outage.code, outage.stderr).toBe(3);
    expect(await readdir(join(dir, 'outage/.bucketgate/fallback/outbox')).catch(() => [])).toEqual([]);
  });

  it('runs the everyday commands and diagnostics on local disk', async () => {
    const bucket = join(dir, 'everyday');
    const e = { BHIV_BUCKET_PATH: bucket };
    await writeFile(join(dir, 'note.txt'), 'remember the milk');
    expect((await cli(['setup', '--json'], { cwd: dir, env: e })).code).toBe(0);
    const cp = await cli(['cp', join(dir, 'note.txt'), 'bg://scripts/notes/note.txt', '--json'], { cwd: dir, env: e });
    expect(cp.code, cp.stderr).toBe(0);
    expect(JSON.parse(cp.stdout).size).toBe(17);
    expect((await cli(['cat', 'bg://scripts/notes/note.txt'], { cwd: dir, env: e })).stdout).toBe('remember the milk');
    const ls = JSON.parse((await cli(['ls', 'bg://scripts/', '--json'], { cwd: dir, env: e })).stdout);
    expect(ls).toEqual([expect.objectContaining({ key: 'scripts/notes/', type: 'folder' })]);
    const stats = JSON.parse((await cli(['stats', '--json'], { cwd: dir, env: e })).stdout);
    expect(stats.total).toEqual({ count: 1, bytes: 17 });
    const reindex = JSON.parse((await cli(['reindex', '--json'], { cwd: dir, env: e })).stdout);
    expect(reindex.objects).toBe(1);
    const token = await cli(['token', '--role', 'authenticated', '--sub', 'alice', '--ttl', '60'], { cwd: dir, env: e });
    expect(token.stdout.trim().split('.')).toHaveLength(3);
    const doctor = await cli(['doctor', '--json'], { cwd: dir, env: e });
    expect(doctor.code, doctor.stdout).toBe(0);
    expect(JSON.parse(doctor.stdout).backends[0].checks.map((c: { name: string }) => c.name)).toEqual(['free space', 'permissions', 'write', 'read', 'delete']);
    const doctorLocal = await cli(['doctor', '--backend', 'local', '--json'], { cwd: dir, env: e });
    expect(doctorLocal.code, doctorLocal.stderr).toBe(0);
    expect(JSON.parse(doctorLocal.stdout).backends.map((b: { backend: string }) => b.backend)).toEqual(['local']);
    expect((await cli(['doctor', '--backend', 'ftp'], { cwd: dir, env: e })).code).toBe(2);
    const bench = await cli(['bench', '--size', '1', '--small', '5', '--json'], { cwd: dir, env: e });
    expect(bench.code, bench.stderr).toBe(0);
    const [row] = JSON.parse(bench.stdout);
    expect(row.backend).toBe('local');
    for (const figure of ['uploadMiBps', 'downloadMiBps', 'smallPutsPerSec', 'smallGetsPerSec', 'deletesPerSec']) expect(row[figure]).toBeGreaterThan(0);
    expect((await cli(['rm', 'bg://scripts/notes/note.txt'], { cwd: dir, env: e })).code).toBe(0);
    expect((await cli(['cat', 'bg://scripts/notes/note.txt'], { cwd: dir, env: e })).code).toBe(1);
    const traversal = await cli(['cat', 'bg://scripts/../../etc/passwd'], { cwd: dir, env: e });
    expect(traversal.code).toBe(2);
    expect(traversal.stderr).toMatch(/^bucketgate: InvalidKey/);
  });
});
