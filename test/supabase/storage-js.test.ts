import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageApiError, StorageClient } from '@supabase/storage-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceHandle, startService } from '../support/service.js';

/**
 * The official client, @supabase/storage-js, against bucketgate's Supabase-compatible API on a
 * real service over local disk: every method the client offers for buckets and files, bytes
 * compared, errors checked in Supabase's shape (HTTP 400 with the real status in `statusCode`).
 */
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Bytes that look like an MP4 (an ISO-BMFF `ftyp` box first): the service checks magic bytes. */
const mp4 = (size: number) => Buffer.concat([Buffer.from('00000018667479706d703432000000006d703432', 'hex'), randomBytes(size)]);

let h: ServiceHandle;
let base: string;
let service: StorageClient;
let anon: StorageClient;
let alice: StorageClient;
let aliceToken: string;

const clientFor = (key: string) => new StorageClient(base, { apikey: key, Authorization: `Bearer ${key}` });
const bytes = async (blob: Blob | null) => Buffer.from(await blob!.arrayBuffer());

function expectError(error: unknown, statusCode: string, status = 400): StorageApiError {
  expect(error, 'expected a StorageApiError').toBeInstanceOf(StorageApiError);
  const e = error as StorageApiError;
  expect(e.statusCode).toBe(statusCode);
  expect(e.status).toBe(status);
  return e;
}

beforeAll(async () => {
  h = await startService();
  base = `${h.url}/storage/v1`;
  service = clientFor(h.serviceToken);
  anon = clientFor(await h.storage.jwt.mint({ role: 'anon', ttlSeconds: 3600 }));
  aliceToken = await h.userToken('alice');
  // supabase-js sends the anon key as apikey and the user's session as the bearer token.
  alice = new StorageClient(base, { apikey: await h.storage.jwt.mint({ role: 'anon', ttlSeconds: 3600 }), Authorization: `Bearer ${aliceToken}` });
});
afterAll(async () => h?.stop());

describe('buckets', () => {
  it('listBuckets shows the segments with their rules', async () => {
    const { data, error } = await service.listBuckets();
    expect(error).toBeNull();
    const names = data!.map((b) => b.name);
    expect(names).toEqual(expect.arrayContaining(['uploads', 'videos', 'scripts', 'storyboards', 'ratings', 'logs']));
    const videos = data!.find((b) => b.name === 'videos')!;
    expect(videos).toMatchObject({ id: 'videos', public: true, file_size_limit: 8 * 1024 * 1024, allowed_mime_types: ['video/*', 'audio/*', 'image/*'] });
    expect(data!.find((b) => b.name === 'uploads')).toMatchObject({ public: false, allowed_mime_types: null });
  });

  it('listBuckets pages, searches and shows anonymous callers only public buckets', async () => {
    expect((await service.listBuckets({ limit: 2, offset: 1 })).data!.map((b) => b.name)).toEqual(['ratings', 'scripts']);
    expect((await service.listBuckets({ search: 'load' })).data!.map((b) => b.name)).toEqual(['uploads']);
    expect((await anon.listBuckets()).data!.map((b) => b.name)).toEqual(['videos']);
  });

  it('getBucket returns one bucket, or a Supabase 404', async () => {
    const { data } = await service.getBucket('scripts');
    expect(data).toMatchObject({ id: 'scripts', name: 'scripts', public: false });
    const missing = await service.getBucket('no-such-bucket');
    expect(missing.data).toBeNull();
    expect(expectError(missing.error, '404').message).toBe('Bucket not found');
  });

  it('createBucket answers "already exists" for a segment and refuses new names clearly', async () => {
    expectError((await service.createBucket('uploads')).error, '409');
    const created = await service.createBucket('brand-new', { public: false });
    expect(expectError(created.error, '409').message).toMatch(/configured segments.*BHIV_SEGMENTS_FILE/);
    expect((await service.getBucket('brand-new')).error).not.toBeNull();
    expectError((await alice.createBucket('uploads')).error, '403');
  });

  it('updateBucket succeeds when nothing changes and refuses real changes', async () => {
    const same = await service.updateBucket('videos', { public: true, fileSizeLimit: 8 * 1024 * 1024, allowedMimeTypes: ['image/*', 'video/*', 'audio/*'] });
    expect(same.error).toBeNull();
    expect(same.data).toEqual({ message: 'Successfully updated' });
    const change = await service.updateBucket('videos', { public: false });
    expect(expectError(change.error, '409').message).toMatch(/cannot change bucket "videos"/);
    expect((await service.getBucket('videos')).data!.public).toBe(true);
    expectError((await service.updateBucket('videos', { public: true, fileSizeLimit: '1MB' })).error, '409');
  });

  it('emptyBucket deletes every object (service_role only)', async () => {
    for (const name of ['a.log', 'deep/b.log']) expect((await service.from('logs').upload(name, 'line\n', { contentType: 'text/plain' })).error).toBeNull();
    expectError((await alice.emptyBucket('logs')).error, '403', 403);
    const { data, error } = await service.emptyBucket('logs');
    expect(error).toBeNull();
    expect(data!.message).toBeTruthy();
    expect((await service.from('logs').list('')).data).toEqual([]);
    expect((await service.from('logs').exists('a.log')).data).toBe(false);
  });

  it('deleteBucket refuses a non-empty bucket, and a configured one even when empty', async () => {
    await service.from('ratings').upload('r.json', '{"stars":5}', { contentType: 'application/json' });
    expectError((await service.deleteBucket('ratings')).error, '409');
    await service.emptyBucket('ratings');
    const empty = await service.deleteBucket('ratings');
    expect(expectError(empty.error, '409').message).toMatch(/configured segments/);
    expect((await service.getBucket('ratings')).error).toBeNull();
  });
});

describe('uploads and downloads', () => {
  const files = () => service.from('uploads');

  it('upload (raw Buffer) and download give the same bytes', async () => {
    const data = randomBytes(200_000);
    const up = await files().upload('bin/one.bin', data, { contentType: 'application/octet-stream' });
    expect(up.error).toBeNull();
    expect(up.data).toMatchObject({ path: 'bin/one.bin', fullPath: 'uploads/bin/one.bin' });
    expect(up.data!.id).toMatch(/^[A-Za-z0-9_-]{10,}$/);
    const down = await files().download('bin/one.bin');
    expect(down.error).toBeNull();
    expect(sha(await bytes(down.data))).toBe(sha(data));
  });

  it('upload (Blob, sent as multipart) keeps content type, cache control and metadata', async () => {
    const up = await files().upload('docs/note.md', new Blob(['# hello'], { type: 'text/markdown' }), { cacheControl: '60', metadata: { author: 'ann', tags: ['a', 'b'], n: 3 } });
    expect(up.error).toBeNull();
    const { data, error } = await files().info('docs/note.md');
    expect(error).toBeNull();
    expect(data).toMatchObject({ name: 'docs/note.md', bucketId: 'uploads', size: 7, contentType: 'text/markdown', cacheControl: 'max-age=60', metadata: { author: 'ann', tags: ['a', 'b'], n: 3 } });
    expect(data!.etag).toMatch(/^".+"$/);
    expect(data!.id).toBe(up.data!.id);
    expect(new Date(data!.lastModified!).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('upload (Node stream and web stream) streams a 3 MiB body', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const chunks = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    expect((await files().upload('stream/node.bin', Readable.from(chunks), { contentType: 'application/octet-stream' })).error).toBeNull();
    expect(sha(await bytes((await files().download('stream/node.bin')).data))).toBe(sha(data));
    const web = new ReadableStream({
      start(c) {
        for (const chunk of chunks) c.enqueue(new Uint8Array(chunk));
        c.close();
      },
    });
    expect((await files().upload('stream/web.bin', web, { contentType: 'application/octet-stream' })).error).toBeNull();
    expect(sha(await bytes((await files().download('stream/web.bin')).data))).toBe(sha(data));
  });

  it('upload refuses an existing path unless upsert, and x-upsert replaces it', async () => {
    await files().upload('dup.txt', 'first', { contentType: 'text/plain' });
    const again = await files().upload('dup.txt', 'second', { contentType: 'text/plain' });
    expect(expectError(again.error, '409').message).toBe('The resource already exists');
    expect((await bytes((await files().download('dup.txt')).data)).toString()).toBe('first');
    expect((await files().upload('dup.txt', 'third', { contentType: 'text/plain', upsert: true })).error).toBeNull();
    expect((await bytes((await files().download('dup.txt')).data)).toString()).toBe('third');
  });

  it('update replaces an object (and creates one, as Supabase does)', async () => {
    await files().upload('upd.txt', 'old', { contentType: 'text/plain' });
    const up = await files().update('upd.txt', 'new content', { contentType: 'text/plain' });
    expect(up.error).toBeNull();
    expect((await bytes((await files().download('upd.txt')).data)).toString()).toBe('new content');
    expect((await files().update('upd-new.txt', 'fresh', { contentType: 'text/plain' })).error).toBeNull();
  });

  it('download as a stream, and with a Range header (206)', async () => {
    await files().upload('range.txt', '0123456789abcdefghij', { contentType: 'text/plain' });
    const stream = await files().download('range.txt').asStream();
    expect(stream.error).toBeNull();
    const reader = stream.data!.getReader();
    const parts: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    expect(Buffer.concat(parts).toString()).toBe('0123456789abcdefghij');
    const res = await fetch(`${base}/object/authenticated/uploads/range.txt`, { headers: { authorization: `Bearer ${h.serviceToken}`, range: 'bytes=5-9' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 5-9/20');
    expect(await res.text()).toBe('56789');
    const bad = await fetch(`${base}/object/authenticated/uploads/range.txt`, { headers: { authorization: `Bearer ${h.serviceToken}`, range: 'bytes=50-60' } });
    expect(bad.status).toBe(416);
    expect(await bad.json()).toMatchObject({ statusCode: '416', code: 'InvalidRange' });
  });

  it('download of a missing object is Supabase\'s "Object not found"', async () => {
    const { data, error } = await files().download('nope/missing.txt');
    expect(data).toBeNull();
    expect(expectError(error, '404').message).toBe('Object not found');
    const res = await fetch(`${base}/object/uploads/nope/missing.txt`, { headers: { authorization: `Bearer ${h.serviceToken}` } });
    expect(await res.json()).toEqual({ statusCode: '404', error: 'not_found', message: 'Object not found', code: 'NoSuchKey' });
  });

  it('exists answers true and false', async () => {
    await files().upload('here.txt', 'x', { contentType: 'text/plain' });
    expect(await files().exists('here.txt')).toMatchObject({ data: true, error: null });
    expect((await files().exists('not-here.txt')).data).toBe(false);
  });

  it('refuses a body over the limit (413), a type the bucket does not allow (415) and a hostile name, storing nothing', async () => {
    const big = await files().upload('big.bin', randomBytes(8 * 1024 * 1024 + 1), { contentType: 'application/octet-stream' });
    expect(expectError(big.error, '413').message).toBe('The object exceeded the maximum allowed size');
    expect((await files().exists('big.bin')).data).toBe(false);
    const wrongType = await service.from('videos').upload('clip.txt', 'text', { contentType: 'text/plain' });
    expect(expectError(wrongType.error, '415').message).toMatch(/text\/plain/);
    expect(expectError((await files().upload('a/.bg-tmp-x', 'x', { contentType: 'text/plain' })).error, '400').message).toMatch(/reserved/);
    // fetch resolves "..": the request lands on another (missing) bucket, never outside one.
    expectError((await files().upload('a/../../etc/passwd', 'x', { contentType: 'text/plain' })).error, '404');
    expectError((await service.from('no-bucket').upload('x.txt', 'x')).error, '404');
  });
});

describe('listing', () => {
  const files = () => service.from('scripts');
  beforeAll(async () => {
    for (const name of ['list/a.txt', 'list/B.txt', 'list/c.txt', 'list/sub/d.txt', 'list/sub/e.txt', 'list/zeta/f.txt', 'list/Report-1.txt', 'list/report-2.txt']) {
      const { error } = await files().upload(name, name, { contentType: 'text/plain' });
      expect(error).toBeNull();
    }
  });

  it('list gives one folder level: folders (id null) and files, sorted by name without case', async () => {
    const { data, error } = await files().list('list');
    expect(error).toBeNull();
    expect(data!.map((e) => e.name)).toEqual(['a.txt', 'B.txt', 'c.txt', 'Report-1.txt', 'report-2.txt', 'sub', 'zeta']);
    const folder = data!.find((e) => e.name === 'sub')!;
    expect(folder).toMatchObject({ id: null, metadata: null, updated_at: null });
    const file = data!.find((e) => e.name === 'a.txt')!;
    expect(file.id).toBeTruthy();
    expect(file.metadata).toMatchObject({ size: 10, mimetype: 'text/plain' });
  });

  it('list pages with limit/offset, searches without case, sorts descending and by date', async () => {
    expect((await files().list('list', { limit: 2, offset: 2 })).data!.map((e) => e.name)).toEqual(['c.txt', 'Report-1.txt']);
    expect((await files().list('list', { search: 'REPORT' })).data!.map((e) => e.name)).toEqual(['Report-1.txt', 'report-2.txt']);
    expect((await files().list('list/', { sortBy: { column: 'name', order: 'desc' } })).data!.map((e) => e.name)).toEqual(['zeta', 'sub', 'report-2.txt', 'Report-1.txt', 'c.txt', 'B.txt', 'a.txt']);
    const byDate = (await files().list('list', { sortBy: { column: 'created_at', order: 'desc' } })).data!.map((e) => e.name);
    expect(byDate.slice(0, 2)).toEqual(['zeta', 'sub']); // folders first, by name in the same order, as Supabase does
    expect(byDate[2]).toBe('report-2.txt');
    expect((await files().list('list/sub')).data!.map((e) => e.name)).toEqual(['d.txt', 'e.txt']);
    expect((await files().list('list/none')).data).toEqual([]);
  });

  it('listV2 pages by cursor, flat or grouped by folder', async () => {
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { data, error } = await files().listV2({ prefix: 'list/', limit: 3, cursor });
      expect(error).toBeNull();
      names.push(...data!.objects.map((o) => o.name));
      cursor = data!.hasNext ? data!.nextCursor : undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(names).toEqual(['list/B.txt', 'list/Report-1.txt', 'list/a.txt', 'list/c.txt', 'list/report-2.txt', 'list/sub/d.txt', 'list/sub/e.txt', 'list/zeta/f.txt']);
    const grouped = await files().listV2({ prefix: 'list/', with_delimiter: true });
    expect(grouped.data!.folders.map((f) => f.name)).toEqual(['list/sub/', 'list/zeta/']);
    expect(grouped.data!.objects).toHaveLength(5);
    expect(grouped.data!.hasNext).toBe(false);
  });
});

describe('move, copy, remove', () => {
  const files = () => service.from('storyboards');

  it('move renames; the target must not exist', async () => {
    await files().upload('mv/from.json', '{"a":1}', { contentType: 'application/json', metadata: { k: 'v' } });
    const { data, error } = await files().move('mv/from.json', 'mv/to.json');
    expect(error).toBeNull();
    expect(data!.message).toBe('Successfully moved');
    expect((await files().exists('mv/from.json')).data).toBe(false);
    expect((await bytes((await files().download('mv/to.json')).data)).toString()).toBe('{"a":1}');
    expect((await files().info('mv/to.json')).data!.metadata).toEqual({ k: 'v' });
    await files().upload('mv/other.json', '{}', { contentType: 'application/json' });
    expectError((await files().move('mv/other.json', 'mv/to.json')).error, '409');
    expectError((await files().move('mv/missing.json', 'mv/x.json')).error, '404');
    // Onto itself: nothing moves, nothing is lost (as Supabase answers).
    expect((await files().move('mv/to.json', 'mv/to.json')).error).toBeNull();
    expect((await bytes((await files().download('mv/to.json')).data)).toString()).toBe('{"a":1}');
  });

  it('copy duplicates within and across buckets; an existing target needs upsert', async () => {
    await files().upload('cp/src.json', '{"copy":true}', { contentType: 'application/json' });
    const { data, error } = await files().copy('cp/src.json', 'cp/dst.json');
    expect(error).toBeNull();
    expect(data!.path).toBe('storyboards/cp/dst.json');
    expect((await bytes((await files().download('cp/dst.json')).data)).toString()).toBe('{"copy":true}');
    expect((await files().exists('cp/src.json')).data).toBe(true);
    expectError((await files().copy('cp/src.json', 'cp/dst.json')).error, '409');
    const across = await files().copy('cp/src.json', 'boards/src.json', { destinationBucket: 'uploads' });
    expect(across.data!.path).toBe('uploads/boards/src.json');
    expect((await bytes((await service.from('uploads').download('boards/src.json')).data)).toString()).toBe('{"copy":true}');
  });

  it('remove deletes several paths and answers the rows it deleted', async () => {
    for (const n of ['rm/1.json', 'rm/2.json', 'rm/3.json']) await files().upload(n, '{}', { contentType: 'application/json' });
    const { data, error } = await files().remove(['rm/1.json', 'rm/2.json', 'rm/never.json']);
    expect(error).toBeNull();
    expect(data!.map((o) => o.name).sort()).toEqual(['rm/1.json', 'rm/2.json']);
    expect(data![0]).toMatchObject({ bucket_id: 'storyboards' });
    expect((await files().list('rm')).data!.map((e) => e.name)).toEqual(['3.json']);
  });
});

describe('signed and public URLs', () => {
  const files = () => service.from('uploads');
  beforeAll(async () => {
    await files().upload('signed/a.txt', 'signed A', { contentType: 'text/plain' });
    await files().upload('signed/b.txt', 'signed B', { contentType: 'text/plain' });
  });

  it('createSignedUrl gives a URL anyone can fetch until it expires', async () => {
    const { data, error } = await files().createSignedUrl('signed/a.txt', 60);
    expect(error).toBeNull();
    expect(data!.signedUrl).toMatch(new RegExp(`^${base}/object/sign/uploads/signed/a.txt\\?token=`));
    const res = await fetch(data!.signedUrl);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('signed A');
    expect(res.headers.get('expires')).toBeTruthy();
    const download = await files().createSignedUrl('signed/a.txt', 60, { download: 'mine.txt' });
    expect((await fetch(download.data!.signedUrl)).headers.get('content-disposition')).toContain('filename=mine.txt');
  });

  it('signed URLs cannot be tampered with, moved to another object, or used after expiry', async () => {
    // Tampering is checked on a URL that lives long enough; expiry on one of a second, which
    // (whole seconds in the token) may expire at once: checked only after it surely has.
    const { data: lasting } = await files().createSignedUrl('signed/a.txt', 60);
    const { data } = await files().createSignedUrl('signed/a.txt', 1);
    const token = new URL(lasting!.signedUrl).searchParams.get('token')!;
    const forged = await fetch(`${base}/object/sign/uploads/signed/a.txt?token=${token.slice(0, -2)}xx`);
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ code: 'InvalidJWT' });
    const moved = await fetch(`${base}/object/sign/uploads/signed/b.txt?token=${token}`);
    expect(await moved.json()).toMatchObject({ code: 'InvalidSignature' });
    const asBearer = await fetch(`${base}/object/uploads/signed/b.txt`, { headers: { authorization: `Bearer ${token}` } });
    expect(asBearer.status).toBe(400);
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await fetch(data!.signedUrl);
    expect(await expired.json()).toMatchObject({ statusCode: '400', code: 'ExpiredToken' });
  });

  it('createSignedUrls signs several paths and reports the missing one', async () => {
    const { data, error } = await files().createSignedUrls(['signed/a.txt', 'signed/none.txt', 'signed/b.txt'], 60);
    expect(error).toBeNull();
    expect(data!.map((d) => d.error)).toEqual([null, 'Either the object does not exist or you do not have access to it', null]);
    expect(await (await fetch(data![2]!.signedUrl!)).text()).toBe('signed B');
  });

  it('createSignedUploadUrl + uploadToSignedUrl upload without a session; reuse cannot overwrite', async () => {
    const { data, error } = await alice.from('uploads').createSignedUploadUrl('alice/via-token.txt');
    expect(error).toBeNull();
    expect(data!.token).toBeTruthy();
    const up = await anon.from('uploads').uploadToSignedUrl('alice/via-token.txt', data!.token, 'token upload', { contentType: 'text/plain' });
    expect(up.error).toBeNull();
    expect(up.data!.fullPath).toBe('uploads/alice/via-token.txt');
    expect((await bytes((await alice.from('uploads').download('alice/via-token.txt')).data)).toString()).toBe('token upload');
    const reuse = await anon.from('uploads').uploadToSignedUrl('alice/via-token.txt', data!.token, 'again', { contentType: 'text/plain' });
    expectError(reuse.error, '409');
    const elsewhere = await anon.from('uploads').uploadToSignedUrl('alice/other.txt', data!.token, 'x', { contentType: 'text/plain' });
    expectError(elsewhere.error, '400');
    const blob = await service.from('uploads').createSignedUploadUrl('signed/form.bin', { upsert: true });
    expect((await anon.from('uploads').uploadToSignedUrl('signed/form.bin', blob.data!.token, new Blob([Buffer.from('multipart')]))).error).toBeNull();
    expect((await bytes((await files().download('signed/form.bin')).data)).toString()).toBe('multipart');
  });

  it('getPublicUrl works for public buckets, without any key', async () => {
    const clip = mp4(50_000);
    expect((await service.from('videos').upload('pub/clip.mp4', clip, { contentType: 'video/mp4' })).error).toBeNull();
    const { data } = service.from('videos').getPublicUrl('pub/clip.mp4');
    expect(data.publicUrl).toBe(`${base}/object/public/videos/pub/clip.mp4`);
    const res = await fetch(data.publicUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(clip));
    const dl = await fetch(service.from('videos').getPublicUrl('pub/clip.mp4', { download: true }).data.publicUrl);
    expect(dl.headers.get('content-disposition')).toBe('attachment;');
    expect((await anon.from('videos').download('pub/clip.mp4')).error).toBeNull();
    const priv = await fetch(files().getPublicUrl('signed/a.txt').data.publicUrl);
    expect(await priv.json()).toMatchObject({ statusCode: '404', error: 'Bucket not found' });
  });

  it('image transformation URLs are built, and refused clearly (bucketgate does not transform)', async () => {
    const { data } = service.from('videos').getPublicUrl('pub/clip.mp4', { transform: { width: 100, height: 50 } });
    expect(data.publicUrl).toBe(`${base}/render/image/public/videos/pub/clip.mp4?width=100&height=50`);
    const res = await fetch(data.publicUrl);
    expect(await res.json()).toMatchObject({ code: 'NotSupported' });
    expectError((await service.from('videos').createSignedUrl('pub/clip.mp4', 60, { transform: { width: 10 } })).error, '409');
  });
});

describe('policies: users, anonymous callers, the service role', () => {
  it('a user writes, reads, lists and deletes only in their own folder', async () => {
    const mine = alice.from('uploads');
    expect((await mine.upload('alice/notes.txt', 'mine', { contentType: 'text/plain' })).error).toBeNull();
    const elsewhere = await mine.upload('bob/notes.txt', 'not mine', { contentType: 'text/plain' });
    expect(expectError(elsewhere.error, '403').message).toMatch(/not allowed/);
    await service.from('uploads').upload('bob/secret.txt', 'bob only', { contentType: 'text/plain' });
    expect(expectError((await mine.download('bob/secret.txt')).error, '404').message).toBe('Object not found');
    expect((await mine.exists('bob/secret.txt')).data).toBe(false);
    expectError((await mine.createSignedUrl('bob/secret.txt', 60)).error, '404');
    expect((await mine.list('')).data!.map((e) => e.name)).toEqual(['alice']);
    expect((await mine.list('bob')).data).toEqual([]);
    expect((await mine.list('alice')).data!.map((e) => e.name)).toEqual(expect.arrayContaining(['notes.txt', 'via-token.txt']));
    expect((await mine.listV2({ prefix: '', with_delimiter: true })).data!.folders.map((f) => f.name)).toEqual(['alice/']);
    expect((await mine.remove(['bob/secret.txt'])).data).toEqual([]);
    expect((await service.from('uploads').exists('bob/secret.txt')).data).toBe(true);
    expectError((await mine.move('alice/notes.txt', 'bob/notes.txt')).error, '403');
    expect((await mine.remove(['alice/notes.txt'])).data!.map((o) => o.name)).toEqual(['alice/notes.txt']);
  });

  it('anonymous callers read public buckets only and cannot write', async () => {
    expectError((await anon.from('uploads').download('bob/secret.txt')).error, '404');
    expect((await anon.from('uploads').download('bob/secret.txt')).error!.message).toBe('Bucket not found');
    expectError((await anon.from('videos').upload('anon.mp4', mp4(10), { contentType: 'video/mp4' })).error, '403');
    expect((await anon.from('videos').list('pub')).data!.map((e) => e.name)).toEqual(['clip.mp4']);
  });

  it('a bad token is refused in Supabase\'s shape; the apikey alone authenticates', async () => {
    const bad = new StorageClient(base, { Authorization: 'Bearer not.a.jwt' });
    expectError((await bad.from('uploads').list('')).error, '403');
    const keyOnly = new StorageClient(base, { apikey: h.serviceToken });
    expect((await keyOnly.from('uploads').exists('here.txt')).data).toBe(true);
    const res = await fetch(`${base}/no/such/route`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ statusCode: '404', error: 'Not Found' });
  });

  it('objects uploaded through the Supabase API are in the catalog with their owner', async () => {
    await alice.from('uploads').upload('alice/cat.txt', 'meow', { contentType: 'text/plain' });
    const row = await h.storage.catalog.getByKey('uploads/alice/cat.txt');
    expect(row).toMatchObject({ owner: 'alice', size: 4, sha256: sha(Buffer.from('meow')) });
    const listed = await h.storage.listFiles('uploads', { prefix: 'alice/' });
    expect(listed.items.map((i) => i.key)).toContain('uploads/alice/cat.txt');
  });
});
