import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createSupabaseBackend,
  setupSupabaseBucket,
  supabaseOptionsFromEnv,
  supabasePoliciesSql,
  testSupabaseConnection,
} from '../../src/backends/supabase/index.js';
import { StorageError } from '../../src/core/errors.js';
import { type SupabaseServer, startSupabaseServer } from './server.js';

/** What the conformance suite does not cover: configuration, TUS, URLs, setup, the connection test, failures. */
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const read = async (body: AsyncIterable<Buffer>) => {
  const parts: Buffer[] = [];
  for await (const p of body) parts.push(p);
  return Buffer.concat(parts);
};

let server: SupabaseServer;
beforeAll(async () => {
  server = await startSupabaseServer();
});
afterAll(async () => server?.stop());
afterEach(() => vi.restoreAllMocks());

describe('configuration', () => {
  const env = { SUPABASE_URL: 'https://abc.supabase.co', SUPABASE_KEY: 'eyJ.anon.key', SUPABASE_BUCKET_NAME: 'ai-agent-files' };

  it('reads the guide\'s variables', () => {
    expect(supabaseOptionsFromEnv({ ...env, SUPABASE_SERVICE_ROLE_KEY: 'eyJ.service.key', SUPABASE_RESUMABLE_THRESHOLD_MB: '50' })).toMatchObject({
      url: 'https://abc.supabase.co',
      key: 'eyJ.anon.key',
      serviceRoleKey: 'eyJ.service.key',
      bucket: 'ai-agent-files',
      resumableThresholdBytes: 50 * 1024 * 1024,
    });
  });

  it.each([
    [{ SUPABASE_URL: undefined }, /^SUPABASE_URL: expected the project URL/],
    [{ SUPABASE_URL: 'ftp://x' }, /^SUPABASE_URL: expected a URL/],
    [{ SUPABASE_KEY: undefined }, /^SUPABASE_KEY: expected the project API key/],
    [{ SUPABASE_KEY: 'has spaces' }, /^SUPABASE_KEY: expected a JWT/],
    [{ SUPABASE_BUCKET_NAME: undefined }, /^SUPABASE_BUCKET_NAME: expected the name of the bucket/],
    [{ SUPABASE_BUCKET_NAME: 'a/b' }, /^SUPABASE_BUCKET_NAME: expected a Supabase bucket name/],
    [{ SUPABASE_RESUMABLE_THRESHOLD_MB: 'lots' }, /^SUPABASE_RESUMABLE_THRESHOLD_MB: expected a number/],
  ])('refuses %o with one line naming the variable', (change, message) => {
    let error: unknown;
    try {
      supabaseOptionsFromEnv({ ...env, ...change });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('ConfigInvalid');
    expect((error as StorageError).message).toMatch(message);
    expect((error as StorageError).message).not.toContain('eyJ.anon.key');
  });
});

describe('uploads', () => {
  it('stores the SHA-256 it measured in the object\'s metadata, so head returns it', async () => {
    const backend = createSupabaseBackend(server.options());
    const data = randomBytes(10_000);
    const put = await backend.put('uploads/sha/a.bin', Readable.from([data]), { metadata: { who: 'me' }, cacheControl: 'max-age=60' });
    expect(put.sha256).toBe(sha(data));
    expect(await backend.head('uploads/sha/a.bin')).toMatchObject({ sha256: sha(data), metadata: { who: 'me' }, etag: put.etag });
    const info = (await (await fetch(`${server.url}/storage/v1/object/info/${server.bucket}/uploads/sha/a.bin`, { headers: { authorization: `Bearer ${server.serviceKey}` } })).json()) as { metadata: unknown; cache_control: string };
    expect(info.metadata).toEqual({ who: 'me', 'bucketgate-sha256': sha(data) });
    expect(info.cache_control).toBe('max-age=60');
  });

  it('sends bodies above the threshold through TUS in fixed chunks, and resumes a failed chunk', async () => {
    const backend = createSupabaseBackend(server.options({ resumableThresholdBytes: 64 * 1024, chunkBytes: 64 * 1024 }));
    const data = randomBytes(300_000);
    const calls: string[] = [];
    const realFetch = globalThis.fetch;
    let failedOnce = false;
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const method = init?.method ?? 'GET';
      calls.push(`${method} ${new URL(String(input)).pathname.replace(/resumable\/.+$/, 'resumable/{id}')}`);
      // The second chunk's first attempt never reaches the server.
      if (method === 'PATCH' && init?.headers && (init.headers as Record<string, string>)['upload-offset'] === '65536' && !failedOnce) {
        failedOnce = true;
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      }
      return realFetch(input, init);
    });
    const info = await backend.put('uploads/tus/video.bin', Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), { contentType: 'video/mp4' });
    vi.restoreAllMocks();
    expect(info).toMatchObject({ size: data.length, sha256: sha(data), contentType: 'video/mp4' });
    const patches = calls.filter((c) => c.startsWith('PATCH'));
    expect(patches).toHaveLength(6); // 5 chunks (4 × 64 KiB + the rest) + one retry
    expect(calls).toContain('POST /storage/v1/upload/resumable');
    expect(calls).toContain('HEAD /storage/v1/upload/resumable/{id}');
    expect(sha(await read((await backend.get('uploads/tus/video.bin')).body))).toBe(sha(data));
  });

  it('a known length goes to TUS without deferring it', async () => {
    const backend = createSupabaseBackend(server.options({ resumableThresholdBytes: 64 * 1024, chunkBytes: 64 * 1024 }));
    const data = randomBytes(150_000);
    const info = await backend.put('uploads/tus/known.bin', Readable.from([data]), { contentLength: data.length, sha256: sha(data) });
    expect(info.size).toBe(data.length);
    await expect(backend.put('uploads/tus/wrong.bin', Readable.from([data]), { contentLength: data.length + 1 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(backend.head('uploads/tus/wrong.bin')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('sends a body declared above Supabase\'s copy limit straight to its key (no checksum kept there)', async () => {
    const backend = createSupabaseBackend(server.options({ resumableThresholdBytes: 64 * 1024, chunkBytes: 64 * 1024, copyLimitBytes: 100_000 }));
    const data = randomBytes(150_000);
    const calls: string[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return realFetch(input, init);
    });
    const info = await backend.put('uploads/direct/big.bin', Readable.from([data]), { contentLength: data.length, metadata: { m: '1' }, ifNoneMatch: '*' });
    vi.restoreAllMocks();
    expect(calls.some((c) => c.includes('/object/copy'))).toBe(false);
    expect(info).toMatchObject({ size: data.length, sha256: sha(data), metadata: { m: '1' } });
    const head = await backend.head('uploads/direct/big.bin');
    expect(head).toMatchObject({ size: data.length, metadata: { m: '1' }, etag: info.etag });
    expect(head.sha256).toBeUndefined();
    expect(sha(await read((await backend.get('uploads/direct/big.bin')).body))).toBe(sha(data));
    await expect(backend.put('uploads/direct/big.bin', Readable.from([data]), { contentLength: data.length, ifNoneMatch: '*' })).rejects.toMatchObject({ code: 'AlreadyExists' });
  });

  it('leaves no staging objects behind, and sweeps old ones', async () => {
    const backend = createSupabaseBackend(server.options());
    await backend.put('uploads/clean.txt', Readable.from([Buffer.from('x')]));
    const leftovers = await server.service.storage.backend.list(`${server.bucket}/.bucketgate-staging/`);
    expect(leftovers.objects).toEqual([]);
    await server.service.storage.backend.put(`${server.bucket}/.bucketgate-staging/old/body`, Readable.from([Buffer.from('stale')]));
    expect(await backend.sweepStaging(0)).toBe(1);
    expect((await server.service.storage.backend.list(`${server.bucket}/.bucketgate-staging/`)).objects).toEqual([]);
  });
});

describe('URLs', () => {
  it('builds public, signed, signed-upload and image URLs that work against the server', async () => {
    const backend = createSupabaseBackend(server.options());
    await backend.put('videos/u/clip.mp4', Readable.from([Buffer.from('video bytes')]), { contentType: 'video/mp4' });
    expect(backend.publicUrl('videos/u/clip.mp4')).toBe(`${server.url}/storage/v1/object/public/${server.bucket}/videos/u/clip.mp4`);
    expect(backend.publicUrl('videos/u/a b#c.mp4', { download: 'x.mp4' })).toBe(`${server.url}/storage/v1/object/public/${server.bucket}/videos/u/a%20b%23c.mp4?download=x.mp4`);
    expect(backend.imageUrl('videos/u/clip.mp4', { width: 320, format: 'webp' })).toBe(`${server.url}/storage/v1/render/image/public/${server.bucket}/videos/u/clip.mp4?width=320&format=webp`);
    const signed = await backend.signedUrl('videos/u/clip.mp4', 60, { download: true });
    const res = await fetch(signed.url);
    expect(await res.text()).toBe('video bytes');
    expect(res.headers.get('content-disposition')).toBe('attachment;');
    const upload = await backend.signedUploadUrl('uploads/u/signed.txt', { contentType: 'text/plain' });
    expect(upload.token).toBeTruthy();
    expect((await fetch(upload.url, { method: upload.method, headers: upload.headers, body: 'via signed upload' })).status).toBe(200);
    expect((await read((await backend.get('uploads/u/signed.txt')).body)).toString()).toBe('via signed upload');
  });

  it('refuses POST presigns (no form uploads on Supabase)', async () => {
    await expect(createSupabaseBackend(server.options()).presign('uploads/x', { method: 'POST', expiresIn: 60 })).rejects.toMatchObject({ code: 'Unsupported' });
  });
});

describe('setup and the connection test', () => {
  it('setup finds the bucket unchanged when it matches, and prints the guide\'s policies for the bucket', async () => {
    const report = await setupSupabaseBucket(server.options(), { public: false, fileSizeLimit: 64 * 1024 * 1024, allowedMimeTypes: null, publicSegments: ['videos'] });
    expect(report).toMatchObject({ bucket: server.bucket, action: 'unchanged', settings: { public: false, file_size_limit: 64 * 1024 * 1024, allowed_mime_types: null } });
    expect(report.policiesSql).toContain('CREATE POLICY "Allow authenticated uploads (bucketgate-test)" ON storage.objects');
    expect(report.policiesSql).toContain("(storage.foldername(name))[2] = auth.uid()::text");
    expect(report.policiesSql).toContain("(storage.foldername(name))[1] IN ('videos')");
    // A second run changes nothing either.
    expect((await setupSupabaseBucket(server.options(), { public: false })).action).toBe('unchanged');
  });

  it('setup reports what it would change, and bucketgate\'s server refuses to change a configured bucket', async () => {
    await expect(setupSupabaseBucket(server.options(), { public: true })).rejects.toMatchObject({ code: 'Unsupported', message: expect.stringMatching(/BHIV_SEGMENTS_FILE/) });
    await expect(setupSupabaseBucket(server.options({ bucket: 'not-configured' }))).rejects.toMatchObject({ code: 'Unsupported' });
    await expect(setupSupabaseBucket(server.options({ serviceRoleKey: undefined }))).rejects.toMatchObject({ code: 'ConfigInvalid', message: expect.stringMatching(/^SUPABASE_SERVICE_ROLE_KEY/) });
  });

  it('escapes names in the printed SQL', () => {
    expect(supabasePoliciesSql("it's")).toContain("bucket_id = 'it''s'");
  });

  it('passes every check with the service_role key', async () => {
    const report = await testSupabaseConnection(server.options());
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.check)).toEqual(['reachable', 'key', 'bucket', 'write']);
    expect(report.checks.map((c) => c.ok)).toEqual([true, true, true, true]);
    expect(report.checks[3]!.message).toMatch(/written and removed/);
    expect((await server.service.storage.backend.list(`${server.bucket}/.bucketgate-probe/`)).objects).toEqual([]);
  });

  it('says in plain words when the anon key may not write', async () => {
    const report = await testSupabaseConnection(server.options({ serviceRoleKey: undefined }));
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => [c.check, c.ok])).toEqual([['reachable', true], ['key', true], ['bucket', false], ['write', false]]);
    expect(report.checks[2]!.message).toMatch(/not visible to this key/);
    expect(report.checks[3]!.message).toMatch(/policies \(RLS\) do not let this key write/);
  });

  it('says when the bucket is missing, the key is wrong, or the server cannot be reached', async () => {
    const missing = await testSupabaseConnection(server.options({ bucket: 'nope' }));
    expect(missing.checks.map((c) => [c.check, c.ok])).toEqual([['reachable', true], ['key', true], ['bucket', false], ['write', false]]);
    expect(missing.checks[2]!.message).toMatch(/was not found/);
    const badKey = await testSupabaseConnection(server.options({ serviceRoleKey: 'eyJhbGciOiJIUzI1NiJ9.e30.bad' }));
    expect(badKey.checks[1]).toMatchObject({ check: 'key', ok: false });
    expect(badKey.checks[1]!.message).toMatch(/key was refused/);
    const down = await testSupabaseConnection(server.options({ url: 'http://127.0.0.1:9' }));
    expect(down.checks[0]).toMatchObject({ check: 'reachable', ok: false });
    expect(down.checks[0]!.message).toMatch(/^Cannot reach 127\.0\.0\.1:9/);
    expect(JSON.stringify([missing, badKey, down])).not.toContain(server.serviceKey);
  });
});

describe('failures', () => {
  it('an unreachable server is BackendUnavailable (temporary), never NotFound', async () => {
    const backend = createSupabaseBackend(server.options({ url: 'http://127.0.0.1:9', requestTimeoutMs: 2000 }));
    for (const call of [backend.head('uploads/x'), backend.get('uploads/x'), backend.list('uploads/'), backend.health(), backend.delete('uploads/x')]) {
      const err = await call.then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'BackendUnavailable', temporary: true });
    }
    const put = await backend.put('uploads/x', Readable.from([Buffer.from('x')])).then(() => undefined, (e: unknown) => e);
    expect(put).toMatchObject({ code: 'BackendUnavailable' });
  });

  it('a refused key is Unauthenticated or Forbidden, with no key in the message', async () => {
    const backend = createSupabaseBackend(server.options({ serviceRoleKey: undefined }));
    const err = (await backend.put('uploads/anon.txt', Readable.from([Buffer.from('x')])).then(() => undefined, (e: unknown) => e)) as StorageError;
    expect(['Unauthenticated', 'Forbidden']).toContain(err.code);
    expect(err.message).not.toContain(server.anonKey);
    const forged = createSupabaseBackend(server.options({ serviceRoleKey: 'eyJhbGciOiJIUzI1NiJ9.e30.bad' }));
    await expect(forged.head('uploads/x')).rejects.toMatchObject({ code: expect.stringMatching(/^(Unauthenticated|Forbidden)$/) });
  });

  it('a bucket over its size limit is TooLarge', async () => {
    const small = await startSupabaseServer({ maxMb: 0.01 });
    try {
      const backend = createSupabaseBackend(small.options());
      await expect(backend.put('uploads/big.bin', Readable.from([randomBytes(20_000)]))).rejects.toMatchObject({ code: 'TooLarge' });
      await expect(backend.head('uploads/big.bin')).rejects.toMatchObject({ code: 'NotFound' });
    } finally {
      await small.stop();
    }
  });
});
