import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendFactory, type ServiceHandle, startService } from '../support/service.js';
import { auth, grant, json, rawRequest, sha256, snapshot, upload } from '../support/http.js';
import { SECRET_VARIABLES } from '../../src/config/index.js';

/**
 * The HTTP service's behaviour, against a real listening server. Parameterised by a
 * backend factory so the same tests run over local disk, S3/MinIO, Ceph and Supabase.
 */
/** Configuration of a service built the way `npm start` builds it: from variables only. */
export type EnvSetup = () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>;

export function describeHttpService(name: string, backend?: BackendFactory, envSetup?: EnvSetup) {
  describe(`HTTP service on ${name}`, () => {
    let h: ServiceHandle;
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      const setup = await envSetup?.();
      cleanup = setup?.cleanup;
      h = await startService({ backend, env: setup?.env });
    }, 20 * 60_000);
    afterAll(async () => {
      await h?.stop();
      await cleanup?.();
    });

    describe('operations', () => {
      it('answers /healthz and /readyz', async () => {
        expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
        const ready = await fetch(`${h.url}/readyz`);
        expect(ready.status).toBe(200);
        expect((await json(ready)).ready).toBe(true);
      });

      it('reports status with a real health round trip and no secrets', async () => {
        const res = await fetch(`${h.url}/storage/status`);
        const text = await res.text();
        const body = JSON.parse(text);
        expect(res.status).toBe(200);
        expect(body.backend.health.ok).toBe(true);
        expect(typeof body.backend.health.latencyMs).toBe('number');
        expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
        expect(text).not.toContain(h.storage.config.jwtSecret!);
        expect(body.config).toBeUndefined();
        // Segment rules are for everyone (the dashboard shows them); secrets and paths are not.
        expect(body.segments.find((seg: { name: string }) => seg.name === 'videos')).toMatchObject({ public: true, allowedTypes: ['video/*', 'audio/*', 'image/*'] });
        // Statistics name only what the caller may read: a guest sees the public segments.
        const guestStats = await json(await fetch(`${h.url}/bucket/stats`));
        expect(Object.keys(guestStats.segments).sort()).toEqual(h.storage.config.segments.filter((seg) => seg.public).map((seg) => seg.name).sort());
        const full = await json(await fetch(`${h.url}/storage/status`, { headers: auth(h.serviceToken) }));
        expect(full.config.backend).toBe(h.storage.config.backend);
        expect(JSON.stringify(full)).not.toContain(h.storage.config.jwtSecret!);
        // Every secret the deployment was given (S3 keys on MinIO/Ceph, DATABASE_URL…): absent
        // from both answers, and shown as *** in the service_role's list of variables.
        const fullText = JSON.stringify(full);
        const secrets = Object.entries(h.storage.config.env).filter(([k, v]) => SECRET_VARIABLES.test(k) && v && v.length > 3);
        for (const [k, v] of secrets) {
          expect(text).not.toContain(v);
          expect(fullText).not.toContain(v);
          if (k in full.config.variables) expect(full.config.variables[k]).toBe('***');
        }
      });

      it('serves an OpenAPI document and a docs page', async () => {
        const spec = await json(await fetch(`${h.url}/openapi.json`));
        expect(spec.openapi).toMatch(/^3\./);
        for (const path of ['/cdn/upload-url', '/cdn/upload/{token}', '/cdn/download/{id}', '/cdn/stream/{id}', '/cdn/list', '/bucket/stats', '/bucket/list/{segment}', '/storage/status', '/storage/presigned-upload', '/observability/performance']) {
          expect(Object.keys(spec.paths)).toContain(path);
        }
        const docs = await fetch(`${h.url}/docs/`);
        expect(docs.status).toBe(200);
        expect(docs.headers.get('content-type')).toContain('text/html');
      });

      it('answers unknown routes with a JSON 404', async () => {
        const res = await fetch(`${h.url}/nope`);
        expect(res.status).toBe(404);
        expect((await json(res)).error.code).toBe('NotFound');
      });
    });

    describe('token uploads', () => {
      it('needs a signed-in caller to hand out an upload URL', async () => {
        const res = await fetch(`${h.url}/cdn/upload-url?segment=uploads&filename=a.txt`);
        expect(res.status).toBe(401);
        expect((await json(res)).error.code).toBe('Unauthenticated');
      });

      it('uploads a raw body and downloads it back with its headers', async () => {
        const data = randomBytes(100_000);
        const g = await grant(h, { segment: 'uploads', filename: 'raw/one.bin', contentType: 'application/octet-stream', size: data.length });
        expect(g.uploadUrl).toContain(`/cdn/upload/${g.token}`);
        expect(new Date(g.expiresAt).getTime()).toBeGreaterThan(Date.now());
        const res = await fetch(g.uploadUrl, { method: 'POST', body: data, headers: { 'content-type': 'application/octet-stream' } });
        expect(res.status).toBe(201);
        const obj = await json(res);
        expect(obj).toMatchObject({ key: 'uploads/raw/one.bin', segment: 'uploads', filename: 'raw/one.bin', size: data.length, sha256: sha256(data) });
        const down = await fetch(`${h.url}/cdn/download/${obj.id}`, { headers: auth(h.serviceToken) });
        expect(down.status).toBe(200);
        expect(Buffer.from(await down.arrayBuffer()).equals(data)).toBe(true);
        expect(down.headers.get('etag')).toBe(obj.etag);
        expect(down.headers.get('content-length')).toBe(String(data.length));
        expect(down.headers.get('last-modified')).toBeTruthy();
        expect(down.headers.get('content-disposition')).toMatch(/^attachment; filename="one.bin"/);
        expect(down.headers.get('cache-control')).toContain('no-store');
        expect(down.headers.get('x-content-type-options')).toBe('nosniff');
      });

      it('uploads the one file of a multipart form', async () => {
        const g = await grant(h, { segment: 'scripts', filename: 'form.txt', contentType: 'text/plain' });
        const form = new FormData();
        form.append('note', 'ignored field');
        form.append('file', new Blob(['hello from a form'], { type: 'text/plain' }), 'form.txt');
        const res = await fetch(g.uploadUrl, { method: 'POST', body: form });
        expect(res.status).toBe(201);
        const obj = await json(res);
        expect(obj.size).toBe('hello from a form'.length);
        expect(obj.contentType).toBe('text/plain');
      });

      it('refuses a multipart body with two files, or none, and stores nothing', async () => {
        const before = await snapshot(h);
        const g1 = await grant(h, { segment: 'scripts', filename: 'two.txt', contentType: 'text/plain' });
        const form = new FormData();
        form.append('a', new Blob(['one'], { type: 'text/plain' }), 'a.txt');
        form.append('b', new Blob(['two'], { type: 'text/plain' }), 'b.txt');
        const two = await fetch(g1.uploadUrl, { method: 'POST', body: form });
        expect(two.status).toBe(400);
        const g2 = await grant(h, { segment: 'scripts', filename: 'none.txt', contentType: 'text/plain' });
        const fields = new FormData();
        fields.append('only', 'a field');
        const none = await fetch(g2.uploadUrl, { method: 'POST', body: fields });
        expect(none.status).toBe(400);
        expect((await json(none)).error.code).toBe('InvalidArgument');
        expect(await snapshot(h)).toBe(before);
      });

      it('bounds the whole multipart form, not only its file: oversized or truncated fields are refused, nothing stored', async () => {
        const before = await snapshot(h);
        const form = (field: Buffer) =>
          Buffer.concat([
            Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\n'),
            field,
            Buffer.from('\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\nContent-Type: text/plain\r\n\r\nsmall\r\n--XyZ--\r\n'),
          ]);
        const headers = { 'content-type': 'multipart/form-data; boundary=XyZ' };
        // 12 MiB of text field around a 5-byte file, with the service limit at 8 MiB.
        const huge = form(Buffer.alloc(12 * 1024 * 1024, 'a'));
        const declared = await fetch((await grant(h, { segment: 'scripts', filename: 'f.txt', contentType: 'text/plain' })).uploadUrl, { method: 'POST', body: huge, headers });
        expect(declared.status).toBe(413);
        // The same without a Content-Length (chunked): cut off once the form passes the bound.
        const chunked = await fetch((await grant(h, { segment: 'scripts', filename: 'f.txt', contentType: 'text/plain' })).uploadUrl, {
          method: 'POST',
          body: new ReadableStream({
            start(controller) {
              for (let at = 0; at < huge.length; at += 1 << 20) controller.enqueue(huge.subarray(at, at + (1 << 20)));
              controller.close();
            },
          }),
          headers,
          duplex: 'half',
        } as RequestInit);
        expect(chunked.status).toBe(413);
        // A field over 64 KiB would reach us truncated: refused rather than silently cut.
        const long = await fetch((await grant(h, { segment: 'scripts', filename: 'f.txt', contentType: 'text/plain' })).uploadUrl, { method: 'POST', body: form(Buffer.alloc(100 * 1024, 'b')), headers });
        expect(long.status).toBe(400);
        expect(await snapshot(h)).toBe(before);
      });

      it('refuses a truncated multipart body and stores nothing', async () => {
        const before = await snapshot(h);
        const g = await grant(h, { segment: 'scripts', filename: 'cut.txt', contentType: 'text/plain' });
        const body = '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\nContent-Type: text/plain\r\n\r\nhalf of the fi';
        const res = await fetch(g.uploadUrl, { method: 'POST', body, headers: { 'content-type': 'multipart/form-data; boundary=XyZ' } });
        expect(res.status).toBe(400);
        expect(await snapshot(h)).toBe(before);
      });

      it('refuses a reused, forged or expired token with 401 InvalidToken', async () => {
        const g = await grant(h, { segment: 'uploads', filename: 'once.txt', contentType: 'text/plain' });
        expect((await fetch(g.uploadUrl, { method: 'POST', body: 'first', headers: { 'content-type': 'text/plain' } })).status).toBe(201);
        const before = await snapshot(h);
        const again = await fetch(g.uploadUrl, { method: 'POST', body: 'second', headers: { 'content-type': 'text/plain' } });
        expect(again.status).toBe(401);
        expect((await json(again)).error.code).toBe('InvalidToken');
        const forged = await fetch(`${h.url}/cdn/upload/${'A'.repeat(43)}`, { method: 'POST', body: 'x' });
        expect((await json(forged)).error.code).toBe('InvalidToken');
        const malformed = await fetch(`${h.url}/cdn/upload/..%2F..%2Fetc`, { method: 'POST', body: 'x' });
        expect(malformed.status).toBe(401);
        await h.storage.catalog.createUploadToken({ token: 'expired-token-0123456789abcdef', key: 'uploads/late.txt', contentType: 'text/plain', maxBytes: 10, owner: null, expiresAt: new Date(Date.now() - 1000) });
        const expired = await fetch(`${h.url}/cdn/upload/expired-token-0123456789abcdef`, { method: 'POST', body: 'late', headers: { 'content-type': 'text/plain' } });
        expect(expired.status).toBe(401);
        expect(await snapshot(h)).toBe(before);
        const down = await h.storage.downloadContent('uploads', 'once.txt');
        expect(down.toString()).toBe('first');
      });

      it('lets exactly one of two racing uploads use a token', async () => {
        const g = await grant(h, { segment: 'uploads', filename: 'race.txt', contentType: 'text/plain' });
        const send = (body: string) => fetch(g.uploadUrl, { method: 'POST', body, headers: { 'content-type': 'text/plain' } }).then((r) => r.status);
        const statuses = await Promise.all([send('A'), send('B'), send('C')]);
        expect(statuses.filter((s) => s === 201)).toHaveLength(1);
        expect(statuses.filter((s) => s === 401)).toHaveLength(2);
      });

      it('cuts off an upload over its limit with 413 and stores nothing', async () => {
        const before = await snapshot(h);
        const g = await grant(h, { segment: 'uploads', filename: 'big.bin', contentType: 'application/octet-stream', size: 1000 });
        const over = await fetch(g.uploadUrl, { method: 'POST', body: randomBytes(1001), headers: { 'content-type': 'application/octet-stream' } });
        expect(over.status).toBe(413);
        expect((await json(over)).error.code).toBe('TooLarge');
        expect(await snapshot(h)).toBe(before);
        // Refused on its declared length, before a byte was read: the token is still good for a body that fits.
        const fits = await fetch(g.uploadUrl, { method: 'POST', body: randomBytes(1000), headers: { 'content-type': 'application/octet-stream' } });
        expect(fits.status).toBe(201);
        await h.storage.deleteContent('uploads', 'big.bin');
        // Chunked (no Content-Length): stopped while streaming.
        const g2 = await grant(h, { segment: 'uploads', filename: 'big2.bin', contentType: 'application/octet-stream', size: 1000 });
        const stream = new ReadableStream({
          start(c) {
            for (let i = 0; i < 5; i++) c.enqueue(randomBytes(400));
            c.close();
          },
        });
        const chunked = await fetch(g2.uploadUrl, { method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit);
        expect(chunked.status).toBe(413);
        // Over the service-wide MAX_UPLOAD_SIZE_MB when asking for the URL.
        const tooBig = await fetch(`${h.url}/cdn/upload-url?segment=uploads&filename=x.bin&size=${9 * 1024 * 1024}`, { headers: auth(h.serviceToken) });
        expect(tooBig.status).toBe(413);
        expect(await snapshot(h)).toBe(before);
      });

      it('refuses a content type the segment does not allow (415) and one the token was not granted for', async () => {
        const res = await fetch(`${h.url}/cdn/upload-url?segment=videos&filename=a.txt&contentType=text/plain`, { headers: auth(h.serviceToken) });
        expect(res.status).toBe(415);
        expect((await json(res)).error.code).toBe('UnsupportedType');
        const before = await snapshot(h);
        const g = await grant(h, { segment: 'videos', filename: 'clip.mp4', contentType: 'video/mp4' });
        const wrong = await fetch(g.uploadUrl, { method: 'POST', body: 'not a video', headers: { 'content-type': 'text/html' } });
        expect(wrong.status).toBe(415);
        // A declared type that is no type at all is refused the same way, the token kept.
        const noType = await fetch(g.uploadUrl, { method: 'POST', body: 'not a video', headers: { 'content-type': '*/*' } });
        expect(noType.status).toBe(415);
        expect((await json(noType)).error.code).toBe('UnsupportedType');
        expect(await snapshot(h)).toBe(before);
        // The token was not spent on the refused request.
        const mp4 = Buffer.from('\0\0\0\x14ftypisom0123mp41', 'latin1');
        const right = await fetch(g.uploadUrl, { method: 'POST', body: mp4, headers: { 'content-type': 'video/mp4' } });
        expect(right.status).toBe(201);
        await h.storage.deleteContent('videos', 'clip.mp4');
      });

      it('hands out no upload URL for a key the backend cannot hold (local disk: a name over 250 bytes)', async () => {
        const long = `${'b'.repeat(256)}.txt`;
        const res = await fetch(`${h.url}/cdn/upload-url?segment=uploads&filename=${long}`, { headers: auth(h.serviceToken) });
        if (h.storage.backend.kind !== 'local') return; // S3 and Supabase take 1,024-byte keys in one piece
        expect(res.status).toBe(400);
        expect((await json(res)).error.code).toBe('InvalidKey');
      });

      it('refuses hostile file names with 400 InvalidKey', async () => {
        for (const filename of ['../x', 'a/../../x', '/etc/passwd', 'a\\b', 'a//b', '.bg-tmp-x']) {
          const res = await fetch(`${h.url}/cdn/upload-url?segment=uploads&filename=${encodeURIComponent(filename)}`, { headers: auth(h.serviceToken) });
          expect(res.status, filename).toBe(400);
          expect((await json(res)).error.code).toBe('InvalidKey');
        }
        const seg = await fetch(`${h.url}/cdn/upload-url?segment=nope&filename=a.txt`, { headers: auth(h.serviceToken) });
        expect(seg.status).toBe(400);
      });

      it('refuses Content-Length together with Transfer-Encoding, storing nothing', async () => {
        const before = await snapshot(h);
        const g = await grant(h, { segment: 'uploads', filename: 'smuggle.txt', contentType: 'text/plain' });
        const path = new URL(g.uploadUrl).pathname;
        const { response } = await rawRequest(h.url, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
        expect(response).toMatch(/^HTTP\/1\.1 400/);
        expect(await snapshot(h)).toBe(before);
      });

      it('answers a Supabase-compatible upload whose chunked body breaks in the Supabase error shape, storing nothing', async () => {
        const before = await snapshot(h);
        const head = `POST /storage/v1/object/uploads/broken.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.serviceToken}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n`;
        const { response } = await rawRequest(h.url, `${head}5\r\nhello\r\nzz\r\n`);
        expect(response).toMatch(/^HTTP\/1\.1 400/);
        expect(response).toContain('"statusCode":"400"');
        expect(await snapshot(h)).toBe(before);
      });

      it('refuses an upload that gives neither Content-Length nor Transfer-Encoding (411), storing nothing', async () => {
        const before = await snapshot(h);
        const g = await grant(h, { segment: 'uploads', filename: 'unframed.txt', contentType: 'text/plain' });
        const path = new URL(g.uploadUrl).pathname;
        const { response } = await rawRequest(h.url, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\r\nhello`);
        expect(response).toMatch(/^HTTP\/1\.1 411/);
        expect(response).toContain('"code":"LengthRequired"');
        expect(await snapshot(h)).toBe(before);
        // Refused before its body: the token still works.
        expect((await fetch(g.uploadUrl, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })).status).toBe(201);
        await h.storage.deleteContent('uploads', 'unframed.txt');
      });

      it('answers a whole request before refusing the bytes that follow it (a body longer than its Content-Length)', async () => {
        const g = await grant(h, { segment: 'uploads', filename: 'longer.txt', contentType: 'text/plain' });
        const path = new URL(g.uploadUrl).pathname;
        // HTTP reads 3 bytes of body, then "defghij" as the next request, which is malformed.
        const { response } = await rawRequest(h.url, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabcdefghij`);
        expect(response).toMatch(/^HTTP\/1\.1 201/);
        expect(response).toMatch(/\r\n\r\n\{[^]*"size":3[^]*HTTP\/1\.1 400 Bad Request/);
        const stored = await h.storage.downloadContent('uploads', 'longer.txt');
        expect(stored.toString()).toBe('abc');
        await h.storage.deleteContent('uploads', 'longer.txt');
      });

      it('cuts off a client that stalls mid-body and stores nothing', async () => {
        const before = await snapshot(h);
        const g = await grant(h, { segment: 'uploads', filename: 'stall.txt', contentType: 'text/plain' });
        const path = new URL(g.uploadUrl).pathname;
        const started = Date.now();
        const { closedByServer } = await rawRequest(h.url, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly part`, { timeoutMs: 8000 });
        expect(closedByServer).toBe(true);
        expect(Date.now() - started).toBeLessThan(7000);
        expect(await snapshot(h)).toBe(before);
      });

      it('gives a presigned upload that works as described', async () => {
        const res = await fetch(`${h.url}/storage/presigned-upload`, {
          method: 'POST',
          headers: { ...auth(h.serviceToken), 'content-type': 'application/json' },
          body: JSON.stringify({ segment: 'storyboards', filename: 'board.json', contentType: 'application/json', size: 13 }),
        });
        expect(res.status).toBe(200);
        const p = await json(res);
        const put = await fetch(p.upload.url, { method: p.upload.method, headers: p.upload.headers, body: '{"scene": 1}\n' });
        expect([200, 201]).toContain(put.status);
        if (p.complete) {
          const done = await fetch(p.complete.url, { method: p.complete.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(p.complete.body) });
          expect(done.status).toBe(201);
        }
        const listed = await json(await fetch(`${h.url}/bucket/list/storyboards`, { headers: auth(h.serviceToken) }));
        expect(listed.items.map((i: { key: string }) => i.key)).toContain('storyboards/board.json');
      });
    });

    describe('presigned completion', () => {
      it('never deletes an object stored before its grant; a backend without direct uploads refuses completion outright', async () => {
        const kept = await upload(h, 'storyboards', 'keep.json', Buffer.from('{"keep": 1}\n'), 'application/json');
        await new Promise((r) => setTimeout(r, 2500)); // older than the grant by more than its clock slack (S3 keeps whole seconds)
        const p = await json(
          await fetch(`${h.url}/storage/presigned-upload`, {
            method: 'POST',
            headers: { ...auth(h.serviceToken), 'content-type': 'application/json' },
            body: JSON.stringify({ segment: 'storyboards', filename: 'keep.json', contentType: 'application/json', size: 3 }),
          }),
        );
        // Nothing was uploaded with this grant, and the declared size is wrong for what is there.
        const done = await fetch(`${h.url}/storage/presigned-upload/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: p.token, size: 3 }) });
        const body = await json(done);
        expect(done.status, JSON.stringify(body)).toBe(h.storage.backend.capabilities.presign ? 412 : 400);
        // A key that exists gets no direct upload at all: replacing goes through the service.
        expect(p.complete).toBeNull();
        expect(p.upload.url).toContain('/cdn/upload/');
        const got = await fetch(`${h.url}/cdn/download/${kept.id}`, { headers: auth(h.serviceToken) });
        expect(got.status).toBe(200);
        expect(await got.text()).toBe('{"keep": 1}\n');
      });

      it('tells its own upload from an object stored a moment before the grant, where the backend signs a grant marker into the upload', async ({ skip }) => {
        if (!h.storage.backend.capabilities.presignGrant) skip();
        // No pause: Last-Modified cannot tell these apart (the store keeps whole seconds, clocks drift).
        const kept = await upload(h, 'storyboards', 'just-before.json', Buffer.from('{"keep": 2}\n'), 'application/json');
        const ask = () =>
          fetch(`${h.url}/storage/presigned-upload`, {
            method: 'POST',
            headers: { ...auth(h.serviceToken), 'content-type': 'application/json' },
            body: JSON.stringify({ segment: 'storyboards', filename: 'just-before.json', contentType: 'application/json', size: 3 }),
          }).then(json);
        const complete = (token: string) => fetch(`${h.url}/storage/presigned-upload/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, size: 3 }) });
        const first = await ask();
        expect((await complete(first.token)).status).toBe(412);
        const got = await fetch(`${h.url}/cdn/download/${kept.id}`, { headers: auth(h.serviceToken) });
        expect(await got.text()).toBe('{"keep": 2}\n');
        await h.storage.deleteContent('storyboards', 'just-before.json');

        // The marker is signed: an upload that leaves it out is refused by the store itself.
        const second = await ask();
        const { [Object.keys(second.upload.headers).find((k) => k.startsWith('x-amz-meta-'))!]: _marker, ...unmarked } = second.upload.headers;
        const refused = await fetch(second.upload.url, { method: 'PUT', headers: unmarked, body: '{}\n' });
        expect([400, 403]).toContain(refused.status);
        expect((await complete(second.token)).status).toBe(412);

        // Another grant's upload is not this grant's either, even one made a moment later.
        const [third, fourth] = [await ask(), await ask()];
        expect((await fetch(fourth.upload.url, { method: 'PUT', headers: fourth.upload.headers, body: '{}\n' })).status).toBe(200);
        expect((await complete(third.token)).status).toBe(412);
        const done = await complete(fourth.token);
        expect(done.status).toBe(201);
        expect((await json(done)).size).toBe(3);
      });
    });

    describe('direct uploads only ever create', () => {
      const ask = (filename: string, size: number) =>
        fetch(`${h.url}/storage/presigned-upload`, {
          method: 'POST',
          headers: { ...auth(h.serviceToken), 'content-type': 'application/json' },
          body: JSON.stringify({ segment: 'storyboards', filename, contentType: 'application/json', size }),
        }).then(json);
      const complete = (token: string, size: number) => fetch(`${h.url}/storage/presigned-upload/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, size }) });

      it('one over its size is refused at completion and removed, leaving the store as it was', async ({ skip }) => {
        if (!h.storage.backend.capabilities.presign) skip();
        const before = await snapshot(h);
        const p = await ask('direct/over.json', 3);
        const put = await fetch(p.upload.url, { method: p.upload.method, headers: p.upload.headers, body: `[${'1,'.repeat(2000)}1]` });
        expect([200, 201]).toContain(put.status);
        expect((await complete(p.token, 3)).status).toBe(413);
        expect(await snapshot(h)).toBe(before);
      });

      it('its URL is dead once the object exists, even when its own token stored it through the service', async ({ skip }) => {
        if (!h.storage.backend.capabilities.presign) skip();
        const g = await grant(h, { segment: 'storyboards', filename: 'direct/twice.json', contentType: 'application/json', size: 100 });
        expect(g.direct).toBeDefined();
        expect((await fetch(g.uploadUrl, { method: 'POST', body: '{"via":"service"}', headers: { 'content-type': 'application/json' } })).status).toBe(201);
        const late = await fetch(g.direct.url, { method: g.direct.method, headers: g.direct.headers, body: '{"via":"direct, after"}' });
        expect(late.status).toBeGreaterThanOrEqual(400);
        expect((await h.storage.downloadContent('storyboards', 'direct/twice.json')).toString()).toBe('{"via":"service"}');
        await h.storage.deleteContent('storyboards', 'direct/twice.json');
      });
    });

    describe('downloads and streaming', () => {
      let id: string;
      let etag: string;
      // A real MP4 box header: videos has a type allow-list, so uploads must look like what they declare.
      const data = Buffer.from('\0\0\0\x14ftypisom0123mp41', 'latin1');
      beforeAll(async () => {
        const obj = await upload(h, 'videos', 'ranges/clip.mp4', data, 'video/mp4');
        id = obj.id;
        etag = obj.etag;
      });
      const stream = (headers: Record<string, string> = {}) => fetch(`${h.url}/cdn/stream/${id}`, { headers });

      it('sends objects of several MiB whole and ranged, four at once, byte for byte (sent chunks are read into again)', async () => {
        const big = randomBytes(3 * 1024 * 1024 + 5);
        const obj = await upload(h, 'uploads', 'big/several-mib.bin', big);
        const get = async (headers: Record<string, string> = {}) => {
          const res = await fetch(`${h.url}/cdn/download/${obj.id}`, { headers: { ...auth(h.serviceToken), ...headers } });
          return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
        };
        const whole = await Promise.all([get(), get(), get(), get({ range: 'bytes=1048570-3145735' })]);
        for (const r of whole.slice(0, 3)) {
          expect(r.status).toBe(200);
          expect(sha256(r.body)).toBe(sha256(big));
        }
        expect(whole[3]!.status).toBe(206);
        expect(whole[3]!.body.equals(big.subarray(1048570, 3145736))).toBe(true);
      });

      it('streams inline with Accept-Ranges and public caching', async () => {
        const res = await stream();
        expect(res.status).toBe(200);
        expect(res.headers.get('accept-ranges')).toBe('bytes');
        expect(res.headers.get('content-disposition')).toMatch(/^inline/);
        expect(res.headers.get('cache-control')).toContain('public');
        expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
      });

      it.each([
        ['bytes=0-0', 0, 0],
        ['bytes=5-9', 5, 9],
        ['bytes=15-', 15, 19],
        ['bytes=-3', 17, 19],
        ['bytes=19-19', 19, 19],
        ['bytes=10-999', 10, 19],
        ['bytes=-100', 0, 19],
      ])('answers %s with 206 and the right bytes', async (range, start, end) => {
        const res = await stream({ range });
        expect(res.status).toBe(206);
        expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/20`);
        expect(res.headers.get('content-length')).toBe(String(end - start + 1));
        expect(Buffer.from(await res.arrayBuffer()).toString()).toBe(data.subarray(start, end + 1).toString());
      });

      it('answers an unsatisfiable range with 416 and the size', async () => {
        for (const range of ['bytes=20-', 'bytes=25-30', 'bytes=-0']) {
          const res = await stream({ range });
          expect(res.status, range).toBe(416);
          expect(res.headers.get('content-range')).toBe('bytes */20');
          expect((await json(res)).error.code).toBe('RangeNotSatisfiable');
        }
      });

      it('answers any range of an empty object with 416', async () => {
        const empty = await upload(h, 'videos', 'ranges/empty.mp4', Buffer.alloc(0), 'video/mp4');
        const res = await fetch(`${h.url}/cdn/stream/${empty.id}`, { headers: { range: 'bytes=0-' } });
        expect(res.status).toBe(416);
        const whole = await fetch(`${h.url}/cdn/stream/${empty.id}`);
        expect(whole.status).toBe(200);
        expect((await whole.arrayBuffer()).byteLength).toBe(0);
      });

      it('answers several ranges, or a malformed one, with the whole object', async () => {
        for (const range of ['bytes=0-1,5-6', 'bytes=a-b', 'items=0-1']) {
          const res = await stream({ range });
          expect(res.status, range).toBe(200);
          expect((await res.arrayBuffer()).byteLength).toBe(20);
        }
      });

      it('honours If-Range', async () => {
        const same = await stream({ range: 'bytes=0-1', 'if-range': etag });
        expect(same.status).toBe(206);
        await same.arrayBuffer();
        const stale = await stream({ range: 'bytes=0-1', 'if-range': '"stale"' });
        expect(stale.status).toBe(200);
        await stale.arrayBuffer();
        // A date cannot tell two writes within one second apart: the whole object, never a splice.
        const dated = await stream({ range: 'bytes=0-1', 'if-range': same.headers.get('last-modified')! });
        expect(dated.status).toBe(200);
        await dated.arrayBuffer();
      });

      it('answers conditional requests with 304', async () => {
        const a = await fetch(`${h.url}/cdn/download/${id}`, { headers: { 'if-none-match': etag } });
        expect(a.status).toBe(304);
        const lastModified = (await fetch(`${h.url}/cdn/download/${id}`, { method: 'HEAD' })).headers.get('last-modified')!;
        const b = await fetch(`${h.url}/cdn/download/${id}`, { headers: { 'if-modified-since': lastModified } });
        expect(b.status).toBe(304);
        const c = await fetch(`${h.url}/cdn/download/${id}`, { headers: { 'if-none-match': '"other"' } });
        expect(c.status).toBe(200);
        await c.arrayBuffer();
        // A 304 states no length: a Content-Length: 0 (HEAD used to get one) could be cached as the object's size.
        for (const method of ['GET', 'HEAD']) {
          const d = await fetch(`${h.url}/cdn/download/${id}`, { method, headers: { 'if-none-match': etag } });
          expect(d.status, method).toBe(304);
          expect(d.headers.get('content-length'), method).toBeNull();
          expect(d.headers.get('transfer-encoding'), method).toBeNull();
          expect(d.headers.get('etag'), method).toBe(etag);
        }
      });

      it('answers HEAD with headers only', async () => {
        const res = await fetch(`${h.url}/cdn/download/${id}`, { method: 'HEAD' });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-length')).toBe('20');
        expect(res.headers.get('etag')).toBe(etag);
      });

      it('answers an unknown id with 404', async () => {
        const res = await fetch(`${h.url}/cdn/download/${'x'.repeat(22)}`, { headers: auth(h.serviceToken) });
        expect(res.status).toBe(404);
        expect((await json(res)).error.code).toBe('NotFound');
      });

      it('names the file in Content-Disposition as RFC 6266 and 8187 say, whatever its characters', async () => {
        const obj = await upload(h, 'uploads', "it's (1)* \u00e9t\u00e9 \"q\".bin", 'x', 'application/octet-stream');
        const res = await fetch(`${h.url}/cdn/download/${obj.id}`, { headers: auth(h.serviceToken) });
        await res.arrayBuffer();
        expect(res.headers.get('content-disposition')).toBe(`attachment; filename="it's (1)* _t_ _q_.bin"; filename*=UTF-8''it%27s%20%281%29%2A%20%C3%A9t%C3%A9%20%22q%22.bin`);
      });

      it('never lets an error be cached, even for a public object', async () => {
        const mp4 = Buffer.from('\0\0\0\x14ftypisom0123mp41', 'latin1');
        const obj = await upload(h, 'videos', 'cache/clip.mp4', mp4, 'video/mp4');
        const ok = await fetch(`${h.url}/cdn/stream/${obj.id}`);
        await ok.arrayBuffer();
        expect(ok.headers.get('cache-control')).toContain('public');
        const refused = await fetch(`${h.url}/cdn/stream/${obj.id}`, { headers: { range: `bytes=${mp4.length + 10}-` } });
        expect(refused.status).toBe(416);
        await refused.arrayBuffer();
        expect(refused.headers.get('cache-control')).toBe('no-store');
        await h.storage.deleteContent('videos', 'cache/clip.mp4');
      });

      it('never serves uploaded HTML inline', async () => {
        const obj = await upload(h, 'uploads', 'page.html', '<script>alert(1)</script>', 'text/html');
        const res = await fetch(`${h.url}/cdn/stream/${obj.id}`, { headers: auth(h.serviceToken) });
        expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
        expect(res.headers.get('content-security-policy')).toContain('sandbox');
        await res.arrayBuffer();
      });
    });

    describe('listing, stats, delete', () => {
      it('pages through a segment in stable order with no loss or repeat', async () => {
        const names = Array.from({ length: 7 }, (_, i) => `page/f${i}.txt`);
        for (const n of names) await upload(h, 'logs', n, `line ${n}\n`, 'text/plain');
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const qs = new URLSearchParams({ segment: 'logs', prefix: 'page/', limit: '3', ...(cursor ? { cursor } : {}) });
          const page = await json(await fetch(`${h.url}/cdn/list?${qs}`, { headers: auth(h.serviceToken) }));
          seen.push(...page.items.map((i: { key: string }) => i.key));
          cursor = page.cursor;
          pages++;
        } while (cursor);
        expect(pages).toBe(3);
        expect(seen).toEqual(names.map((n) => `logs/${n}`));
        const other = await json(await fetch(`${h.url}/bucket/list/logs?prefix=page/&limit=100`, { headers: auth(h.serviceToken) }));
        expect(other.items).toHaveLength(7);
      });

      it('lists by a prefix in either Unicode form (keys are stored composed, NFC)', async () => {
        const composed = 'caf\u00e9/menu.txt';
        await upload(h, 'logs', composed, 'soup\n', 'text/plain');
        for (const prefix of ['caf\u00e9/', 'cafe\u0301/']) {
          const page = await json(await fetch(`${h.url}/cdn/list?${new URLSearchParams({ segment: 'logs', prefix })}`, { headers: auth(h.serviceToken) }));
          expect(page.items.map((i: { key: string }) => i.key), JSON.stringify(prefix)).toEqual([`logs/${composed}`]);
        }
        await h.storage.deleteContent('logs', composed);
      });

      it('refuses bad list parameters', async () => {
        expect((await fetch(`${h.url}/cdn/list?segment=logs&limit=0`, { headers: auth(h.serviceToken) })).status).toBe(400);
        expect((await fetch(`${h.url}/cdn/list?segment=logs&limit=5000`, { headers: auth(h.serviceToken) })).status).toBe(400);
        expect((await fetch(`${h.url}/cdn/list?segment=logs&cursor=%%%`, { headers: auth(h.serviceToken) })).status).toBe(400);
        expect((await fetch(`${h.url}/cdn/list`, { headers: auth(h.serviceToken) })).status).toBe(400);
        expect((await fetch(`${h.url}/bucket/list/NOT-A-SEGMENT`, { headers: auth(h.serviceToken) })).status).toBe(400);
      });

      it('keeps stats from the catalog and deletes', async () => {
        const before = await json(await fetch(`${h.url}/bucket/stats`, { headers: auth(h.serviceToken) }));
        const obj = await upload(h, 'ratings', 'r1.json', '{"stars":5}', 'application/json');
        const mid = await json(await fetch(`${h.url}/bucket/stats`, { headers: auth(h.serviceToken) }));
        expect(mid.segments.ratings.count).toBe((before.segments.ratings?.count ?? 0) + 1);
        expect(mid.segments.ratings.bytes).toBe((before.segments.ratings?.bytes ?? 0) + 11);
        expect(mid.total.count).toBe(before.total.count + 1);
        const del = await fetch(`${h.url}/cdn/files/${obj.id}`, { method: 'DELETE', headers: auth(h.serviceToken) });
        expect(del.status).toBe(204);
        expect((await fetch(`${h.url}/cdn/download/${obj.id}`, { headers: auth(h.serviceToken) })).status).toBe(404);
        const after = await json(await fetch(`${h.url}/bucket/stats`, { headers: auth(h.serviceToken) }));
        expect(after.total).toEqual(before.total);
      });
    });

    describe('users and their folders', () => {
      it('puts a user\'s uploads in their folder and hides them from others', async () => {
        const alice = await h.userToken('alice');
        const bob = await h.userToken('bob');
        const mine = await upload(h, 'uploads', 'secret.txt', 'alice only', 'text/plain', alice);
        expect(mine.key).toBe('uploads/alice/secret.txt');
        expect((await fetch(`${h.url}/cdn/download/${mine.id}`, { headers: auth(alice) })).status).toBe(200);
        expect((await fetch(`${h.url}/cdn/download/${mine.id}`, { headers: auth(bob) })).status).toBe(404);
        expect((await fetch(`${h.url}/cdn/download/${mine.id}`)).status).toBe(401);
        expect((await fetch(`${h.url}/cdn/files/${mine.id}`, { method: 'DELETE', headers: auth(bob) })).status).toBe(404);
        const bobList = await json(await fetch(`${h.url}/cdn/list?segment=uploads`, { headers: auth(bob) }));
        expect(bobList.items).toEqual([]);
        const aliceList = await json(await fetch(`${h.url}/cdn/list?segment=uploads`, { headers: auth(alice) }));
        expect(aliceList.items.map((i: { key: string }) => i.key)).toEqual(['uploads/alice/secret.txt']);
        const bobStats = await json(await fetch(`${h.url}/bucket/stats`, { headers: auth(bob) }));
        expect(bobStats.segments.uploads.count).toBe(0);
        expect((await fetch(`${h.url}/cdn/list?segment=uploads`)).status).toBe(401);
      });

      it('rejects a bad bearer token', async () => {
        const res = await fetch(`${h.url}/bucket/stats`, { headers: { authorization: 'Bearer not.a.jwt' } });
        expect(res.status).toBe(401);
        const other = await fetch(`${h.url}/bucket/stats`, { headers: { authorization: 'Basic abc' } });
        expect(other.status).toBe(401);
      });
    });

    describe('observability', () => {
      it('reports performance per operation with latency percentiles and a cost estimate', async () => {
        const perf = await json(await fetch(`${h.url}/observability/performance`));
        const ops = perf.backends[h.storage.backend.kind];
        expect(ops.put.count).toBeGreaterThan(0);
        expect(ops.put.latencyMs.p50).toBeGreaterThan(0);
        expect(ops.get.bytes).toBeGreaterThan(0);
        expect(perf.utilisation.total.count).toBeGreaterThan(0);
        expect(perf.monthlyCostEstimate.currency).toBe('USD');
      });

      it('exposes Prometheus metrics', async () => {
        const res = await fetch(`${h.url}/metrics`);
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text).toContain('bucketgate_backend_operations_total');
        expect(text).toContain('bucketgate_backend_operation_seconds_bucket');
      });
    });
  });
}
