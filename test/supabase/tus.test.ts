import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceHandle, startService } from '../support/service.js';

/** The compatible API's resumable uploads, spoken as TUS 1.0.0 by hand. */
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const b64 = (s: string) => Buffer.from(s).toString('base64');

let h: ServiceHandle;
let endpoint: string;
let auth: Record<string, string>;

beforeAll(async () => {
  h = await startService();
  endpoint = `${h.url}/storage/v1/upload/resumable`;
  auth = { authorization: `Bearer ${h.serviceToken}`, 'tus-resumable': '1.0.0' };
});
afterAll(async () => h?.stop());

async function create(name: string, headers: Record<string, string>, bucket = 'uploads') {
  const meta = `bucketName ${b64(bucket)},objectName ${b64(name)},contentType ${b64('application/octet-stream')},cacheControl ${b64('120')},metadata ${b64('{"via":"tus"}')}`;
  return fetch(endpoint, { method: 'POST', headers: { ...auth, 'upload-metadata': meta, ...headers } });
}

const patch = (location: string, offset: number, body: Buffer, extra: Record<string, string> = {}) =>
  fetch(location, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), ...extra }, body });

const offsetOf = async (location: string) => Number((await fetch(location, { method: 'HEAD', headers: auth })).headers.get('upload-offset'));

describe('resumable uploads (TUS 1.0.0)', () => {
  it('announces its version and extensions', async () => {
    const res = await fetch(endpoint, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-version')).toBe('1.0.0');
    expect(res.headers.get('tus-extension')).toContain('creation-defer-length');
  });

  it('creates, reports its offset, takes chunks in order and stores the object whole', async () => {
    const data = randomBytes(700_000);
    const created = await create('tus/whole.bin', { 'upload-length': String(data.length) });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect(location).toMatch(/\/storage\/v1\/upload\/resumable\/[A-Za-z0-9_-]+$/);
    expect(await offsetOf(location)).toBe(0);
    const first = await patch(location, 0, data.subarray(0, 300_000));
    expect(first.status).toBe(204);
    expect(first.headers.get('upload-offset')).toBe('300000');
    // A PATCH at the wrong offset is refused and changes nothing.
    expect((await patch(location, 100, data.subarray(100, 200))).status).toBe(409);
    expect(await offsetOf(location)).toBe(300_000);
    await expect(h.storage.backend.head('uploads/tus/whole.bin')).rejects.toMatchObject({ code: 'NotFound' });
    expect((await patch(location, 300_000, data.subarray(300_000))).status).toBe(204);
    const stored = await h.storage.downloadContent('uploads', 'tus/whole.bin');
    expect(sha(stored)).toBe(sha(data));
    const info = await (await fetch(`${h.url}/storage/v1/object/info/uploads/tus/whole.bin`, { headers: { authorization: auth.authorization! } })).json();
    expect(info).toMatchObject({ size: data.length, cache_control: 'max-age=120', metadata: { via: 'tus' } });
    expect((await fetch(location, { method: 'HEAD', headers: auth })).status).toBe(404);
  });

  it('resumes after a connection cut mid-chunk from the bytes that landed', async () => {
    const data = randomBytes(400_000);
    const location = (await create('tus/resumed.bin', { 'upload-length': String(data.length) })).headers.get('location')!;
    const controller = new AbortController();
    let sent = 0;
    const body = new ReadableStream({
      async pull(c) {
        if (sent >= 200_000) {
          controller.abort();
          return;
        }
        c.enqueue(new Uint8Array(data.subarray(sent, sent + 50_000)));
        sent += 50_000;
        await new Promise((r) => setTimeout(r, 20));
      },
    });
    await fetch(location, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
      body,
      duplex: 'half',
      signal: controller.signal,
    } as RequestInit).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const landed = await offsetOf(location);
    expect(landed).toBeGreaterThan(0);
    expect(landed).toBeLessThanOrEqual(200_000);
    expect((await patch(location, landed, data.subarray(landed))).status).toBe(204);
    expect(sha(await h.storage.downloadContent('uploads', 'tus/resumed.bin'))).toBe(sha(data));
  });

  it('takes a deferred length with the last chunk', async () => {
    const created = await create('tus/deferred.bin', { 'upload-defer-length': '1' });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect((await fetch(location, { method: 'HEAD', headers: auth })).headers.get('upload-defer-length')).toBe('1');
    expect((await patch(location, 0, Buffer.from('hello '))).status).toBe(204);
    expect((await patch(location, 6, Buffer.from('world'), { 'upload-length': '11' })).status).toBe(204);
    expect((await h.storage.downloadContent('uploads', 'tus/deferred.bin')).toString()).toBe('hello world');
  });

  it('refuses bytes past the declared length or the bucket limit, and an existing object without x-upsert', async () => {
    const location = (await create('tus/short.bin', { 'upload-length': '5' })).headers.get('location')!;
    expect((await patch(location, 0, Buffer.from('123456'))).status).toBe(413);
    const tooBig = await create('tus/big.bin', { 'upload-length': String(9 * 1024 * 1024) });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ statusCode: '413', code: 'EntityTooLarge' });
    expect((await create('tus/whole.bin', { 'upload-length': '3' })).status).toBe(409);
    expect((await create('tus/whole.bin', { 'upload-length': '3', 'x-upsert': 'true' })).status).toBe(201);
  });

  it('checks the caller, the protocol version and the bucket rules', async () => {
    const anonymous = await fetch(endpoint, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '3', 'upload-metadata': `bucketName ${b64('uploads')},objectName ${b64('x.bin')}` } });
    expect(anonymous.status).toBe(403);
    expect((await create('x.bin', { 'upload-length': '3', 'tus-resumable': '0.2.2' })).status).toBe(412);
    expect((await create('x.txt', { 'upload-length': '3' }, 'videos')).status).toBe(415);
    expect((await create('x.bin', { 'upload-length': '3' }, 'nope')).status).toBe(404);
  });

  it('stores an empty upload when it is created (clients send no PATCH for it)', async () => {
    const created = await create('tus/empty.bin', { 'upload-length': '0' });
    expect(created.status).toBe(201);
    expect(created.headers.get('upload-offset')).toBe('0');
    expect((await h.storage.backend.head('uploads/tus/empty.bin')).size).toBe(0);
    expect((await fetch(created.headers.get('location')!, { method: 'HEAD', headers: auth })).status).toBe(404);
    await h.storage.deleteContent('uploads', 'tus/empty.bin');
  });

  it('shows and cancels an upload only to a caller who may write where it goes', async () => {
    const alice = { authorization: `Bearer ${await h.userToken('alice')}`, 'tus-resumable': '1.0.0' };
    const bob = { authorization: `Bearer ${await h.userToken('bob')}`, 'tus-resumable': '1.0.0' };
    const meta = `bucketName ${b64('uploads')},objectName ${b64('alice/tus.bin')}`;
    const created = await fetch(endpoint, { method: 'POST', headers: { ...alice, 'upload-length': '10', 'upload-metadata': meta } });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    for (const headers of [{ 'tus-resumable': '1.0.0' }, bob]) {
      expect((await fetch(location, { method: 'HEAD', headers })).status).toBe(403);
      expect((await fetch(location, { method: 'DELETE', headers })).status).toBe(403);
    }
    expect((await fetch(location, { method: 'HEAD', headers: alice })).headers.get('upload-offset')).toBe('0');
    expect((await fetch(location, { method: 'DELETE', headers: alice })).status).toBe(204);
  });

  it('terminates an upload', async () => {
    const location = (await create('tus/cancel.bin', { 'upload-length': '10' })).headers.get('location')!;
    await patch(location, 0, Buffer.from('12345'));
    expect((await fetch(location, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await fetch(location, { method: 'HEAD', headers: auth })).status).toBe(404);
    await expect(h.storage.backend.head('uploads/tus/cancel.bin')).rejects.toMatchObject({ code: 'NotFound' });
  });
});
