import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLocalStore } from './audit.js';
import { bytes, sha256, tempDir, tempFiles } from './helpers.js';
import { client, respawn, spawnService } from './service-process.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** POSTs `chunks` to `url`, one every `gapMs`, with chunked transfer encoding; resolves with status and body. */
function slowUpload(url: string, chunks: Buffer[], gapMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    let i = 0;
    const next = () => {
      if (i === chunks.length) return void req.end();
      req.write(chunks[i++]);
      setTimeout(next, gapMs);
    };
    next();
  });
}

describe('graceful shutdown (SIGTERM)', () => {
  it('stops accepting, finishes the upload in flight, exits 0, and the object is whole after restart', async () => {
    const dir = await tempDir('bg-term-');
    dirs.push(dir);
    const svc = await spawnService({ bucketPath: dir });
    const data = bytes(400_000, 3);
    const chunks = Array.from({ length: 8 }, (_, i) => data.subarray(i * 50_000, (i + 1) * 50_000));
    const g = await client.grant(svc, 'uploads', 'slow.bin');
    const started = Date.now();
    const inFlight = slowUpload(g.uploadUrl, chunks, 100);
    await new Promise((r) => setTimeout(r, 250));
    const exit = svc.terminate();
    await new Promise((r) => setTimeout(r, 100));
    // A new connection is refused (the listener is closed) or answered 503 while draining.
    const late = await fetch(`${svc.url}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    const done = await inFlight;
    expect(done.status).toBe(201);
    expect(JSON.parse(done.body).sha256).toBe(sha256(data));
    expect(await exit).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(700);
    expect(svc.output()).toMatch(/SIGTERM: refusing new requests/);
    expect(svc.output()).toMatch(/stopped: backend operations/);
    const again = await respawn(svc, dir);
    try {
      const list = await client.list(again, 'uploads');
      expect(list.map((o) => o.key)).toEqual(['uploads/slow.bin']);
      expect(sha256((await client.download(again, list[0]!.id)).bytes)).toBe(sha256(data));
    } finally {
      await again.kill9();
    }
  });

  it('gives up on a request that outlives BHIV_SHUTDOWN_TIMEOUT_MS, exits 1, and keeps nothing partial', async () => {
    const dir = await tempDir('bg-term-');
    dirs.push(dir);
    const svc = await spawnService({ bucketPath: dir, env: { BHIV_SHUTDOWN_TIMEOUT_MS: '300', BHIV_IDLE_TIMEOUT_MS: '60000' } });
    const g = await client.grant(svc, 'uploads', 'stuck.bin');
    const stuck = slowUpload(g.uploadUrl, Array.from({ length: 50 }, () => bytes(10_000)), 100).catch(() => 'cut');
    await new Promise((r) => setTimeout(r, 200));
    expect(await svc.terminate()).toBe(1);
    expect(svc.output()).toMatch(/BHIV_SHUTDOWN_TIMEOUT_MS/);
    expect(await stuck).toBe('cut');
    const again = await respawn(svc, dir);
    try {
      expect(await client.list(again, 'uploads')).toEqual([]);
      expect(await tempFiles(dir)).toEqual([]);
    } finally {
      await again.kill9();
    }
  });
});

describe('disk full (a 2 MiB tmpfs)', () => {
  const mounted: string[] = [];
  afterAll(() => {
    for (const m of mounted) execFileSync('umount', ['-l', m]);
  });

  it('answers 507 InsufficientStorage, keeps nothing partial, and works again once space is free', async () => {
    const dir = await tempDir('bg-full-');
    dirs.push(dir);
    const bucket = join(dir, 'bucket');
    await mkdir(bucket);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', bucket]);
    } catch (err) {
      throw new Error(`mounting a tmpfs needs root (mount -t tmpfs): ${String(err)}`);
    }
    mounted.push(bucket);
    // The catalog lives elsewhere: this is about the object store filling up.
    const svc = await spawnService({ bucketPath: bucket, env: { DATABASE_URL: join(dir, 'catalog.sqlite') } });
    try {
      const small = bytes(600_000, 1);
      expect((await client.upload(svc, 'uploads', 'fits.bin', small)).status).toBe(201);
      for (const size of [3_000_000, 1_800_000]) {
        const r = await client.upload(svc, 'uploads', `big-${size}.bin`, bytes(size, 2));
        expect(r.status).toBe(507);
        expect(JSON.parse(r.body).error.code).toBe('InsufficientStorage');
      }
      expect(await tempFiles(bucket)).toEqual([]);
      const listed = await client.list(svc, 'uploads');
      expect(listed.map((o) => o.key)).toEqual(['uploads/fits.bin']);
      // Disk full is not an outage: nothing went to the fallback.
      expect((await client.status(svc)).fallback.pending).toBe(0);
      expect(await client.remove(svc, listed[0]!.id)).toBe(204);
      const after = bytes(1_500_000, 3);
      const ok = await client.upload(svc, 'uploads', 'after.bin', after);
      expect(ok.status).toBe(201);
      expect(sha256((await client.download(svc, ok.object!.id)).bytes)).toBe(sha256(after));
      await svc.terminate();
      const audit = await auditLocalStore(bucket, { catalogUrl: join(dir, 'catalog.sqlite') });
      expect(audit).toMatchObject({ tempFiles: 0, orphanRows: [], orphanObjects: [], fallbackBlobs: 0 });
    } finally {
      await svc.kill9();
    }
  });
});
