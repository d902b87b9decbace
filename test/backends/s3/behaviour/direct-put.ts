import { type Server, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BytesBody } from '../../../../src/core/streams.js';
import { MiB, bodyOf, expectCode, getBytes, randomName, sha256 } from '../../../conformance/helpers.js';
import { freePort } from '../../../support/ports.js';
import { type TcpProxy, startTcpProxy } from '../../../support/tcp-proxy.js';
import type { S3TestServer } from '../../../servers/server.js';
import type { S3TestEnv } from '../env.js';

/**
 * An HTTP front for the store that answers the first `failures` requests itself with an S3
 * error (503 SlowDown by default), then passes every request through unchanged (Host header
 * included, so signatures still hold). `seen` counts the requests it received.
 */
async function flakyFront(server: S3TestServer, failures: number, answer = { status: 503, code: 'SlowDown' }) {
  const target = new URL(server.endpoint);
  let seen = 0;
  const front: Server = createServer((req, res) => {
    seen++;
    if (seen <= failures) {
      req.resume();
      req.on('end', () => {
        res.writeHead(answer.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${answer.code}</Code><Message>try later</Message></Error>`);
      });
      return;
    }
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    seen: () => seen,
    close: () => new Promise<void>((resolve) => front.close(() => resolve())),
  };
}

/**
 * Bodies up to the multipart threshold go up as one PutObject signed and sent beside the SDK's
 * command pipeline (src/backends/s3/direct-put.ts): what the SDK would otherwise have done for
 * them — the wire request, payload signing, retries, timeouts, error mapping — is checked here.
 */
export function describeDirectPut(env: () => S3TestEnv): void {
  describe('single PutObject (direct)', () => {
    const closers: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const close of closers.splice(0)) await close();
    });
    async function proxied(): Promise<TcpProxy> {
      const target = new URL(env().server.endpoint);
      const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
      closers.push(() => proxy.close());
      return proxy;
    }

    it('sends a body below the threshold as exactly one PUT of the key, nothing else', async () => {
      const { backendWith, server } = env();
      const proxy = await proxied();
      const backend = await backendWith({ endpoint: proxy.url, multipartThresholdBytes: 5 * MiB });
      const key = `uploads/dp-${randomName()}/small.bin`;
      await backend.put(key, bodyOf(Buffer.alloc(5 * MiB, 1)));
      expect(proxy.requests).toEqual([`PUT /${server.bucket}/${key}`]);
      expect((await getBytes(backend, key)).equals(Buffer.alloc(5 * MiB, 1))).toBe(true);
    });

    it('signs the SHA-256 it computed: a body altered on the way is refused, the old version stays', async () => {
      const { backendWith } = env();
      const proxy = await proxied();
      const backend = await backendWith({ endpoint: proxy.url });
      const key = `uploads/dp-${randomName()}/changed-in-flight.txt`; // the name must not contain the rewritten word
      const old = await backend.put(key, bodyOf('old bytes'));
      proxy.set({ kind: 'rewrite', from: Buffer.from('altered'), to: Buffer.from('ALTERED') });
      await expectCode(backend.put(key, bodyOf('new bytes, altered on the way')), 'ChecksumMismatch');
      proxy.set({ kind: 'pass' });
      expect((await getBytes(backend, key)).toString()).toBe('old bytes');
      expect((await backend.head(key)).etag).toBe(old.etag);
    });

    it('encodes every kind of key part as the SDK does, and the key round-trips', async () => {
      const { backend } = env();
      const dir = `uploads/dp-${randomName()}`;
      const names = ["a b+c&d=e?f#g%h;i,j:k@l$m!n'o(p)q*r~s", 'naïve résumé — ✓.txt', '日本語/ファイル.bin', 'x%2Fy', 'tilde~and_underscore-.ok'];
      for (const name of names) {
        const key = `${dir}/${name}`;
        await backend.put(key, bodyOf(name), { contentType: 'text/plain' });
        expect((await getBytes(backend, key)).toString()).toBe(name);
        expect((await backend.head(key)).contentType).toBe('text/plain');
      }
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await backend.list(`${dir}/`, { cursor });
        listed.push(...page.objects.map((o) => o.key));
        cursor = page.cursor;
      } while (cursor);
      expect(listed.sort()).toEqual(names.map((n) => `${dir}/${n}`).sort());
    });

    it('a body already whole in memory (a small local read) is checked as any other: limit, length, checksum', async () => {
      const { backend } = env();
      const key = `uploads/dp-${randomName()}/bytes.bin`;
      const bytes = Buffer.from('bytes already in memory');
      await expectCode(backend.put(key, new BytesBody(bytes), { maxBytes: bytes.length - 1 }), 'TooLarge');
      await expectCode(backend.put(key, new BytesBody(bytes), { contentLength: bytes.length + 1 }), 'InvalidArgument');
      await expectCode(backend.put(key, new BytesBody(bytes), { sha256: sha256(Buffer.from('other')) }), 'ChecksumMismatch');
      await expectCode(backend.head(key), 'NotFound');
      const info = await backend.put(key, new BytesBody(bytes), { contentLength: bytes.length, sha256: sha256(bytes), maxBytes: bytes.length });
      expect(info.sha256).toBe(sha256(bytes));
      expect((await getBytes(backend, key)).equals(bytes)).toBe(true);
    });

    it('a whole-in-memory body above the threshold still goes up in parts', async () => {
      const { backendWith, server } = env();
      const proxy = await proxied();
      const backend = await backendWith({ endpoint: proxy.url, multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB });
      const key = `uploads/dp-${randomName()}/big-bytes.bin`;
      const bytes = Buffer.alloc(6 * MiB, 7);
      expect((await backend.put(key, new BytesBody(bytes))).sha256).toBe(sha256(bytes));
      expect(proxy.requests.filter((r) => r.startsWith('PUT ') && r.includes('partNumber='))).toHaveLength(2);
      expect(proxy.requests).not.toContain(`PUT /${server.bucket}/${key}`);
      expect((await getBytes(backend, key)).equals(bytes)).toBe(true);
    });

    it('keeps content type, cache control and metadata on the object', async () => {
      const { backendWith } = env();
      const backend = await backendWith({});
      const key = `uploads/dp-${randomName()}/meta.json`;
      const metadata = { owner: 'alice', Odd: 'spaces  and — unicode' };
      await backend.put(key, bodyOf('{}'), { contentType: 'application/json', cacheControl: 'max-age=60', metadata });
      const info = await backend.head(key);
      expect(info.contentType).toBe('application/json');
      expect(info.metadata).toEqual(metadata);
    });

    it('retries a store that answers 503 SlowDown, up to maxAttempts', async () => {
      const { backendWith, server } = env();
      const front = await flakyFront(server, 2);
      closers.push(front.close);
      const backend = await backendWith({ endpoint: front.url, maxAttempts: 3 });
      const key = `uploads/dp-${randomName()}/retried.txt`;
      await backend.put(key, bodyOf('after two refusals'));
      expect(front.seen()).toBe(3);
      expect((await getBytes(backend, key)).toString()).toBe('after two refusals');
    });

    it('gives up after maxAttempts with BackendUnavailable, temporary, and stores nothing', async () => {
      const { backendWith, server } = env();
      const front = await flakyFront(server, 5);
      closers.push(front.close);
      const backend = await backendWith({ endpoint: front.url, maxAttempts: 2 });
      const key = `uploads/dp-${randomName()}/refused.txt`;
      const err = await expectCode(backend.put(key, bodyOf('never stored')), 'BackendUnavailable');
      expect(err.temporary).toBe(true);
      expect(front.seen()).toBe(2);
      await expectCode(env().backend.head(key), 'NotFound');
    });

    it('an abort while waiting to retry ends the upload at once', async () => {
      const { backendWith, server } = env();
      const front = await flakyFront(server, 1000);
      closers.push(front.close);
      const backend = await backendWith({ endpoint: front.url, maxAttempts: 10 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 1000);
      const started = Date.now();
      await expectCode(backend.put(`uploads/dp-${randomName()}/waiting.txt`, bodyOf('x'), { signal: controller.signal }), 'InvalidArgument');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(front.seen()).toBeLessThan(10);
    });

    it('does not retry what a retry cannot fix (403 AccessDenied): one request, Forbidden', async () => {
      const { backendWith, server } = env();
      const front = await flakyFront(server, 5, { status: 403, code: 'AccessDenied' });
      closers.push(front.close);
      const backend = await backendWith({ endpoint: front.url, maxAttempts: 3 });
      await expectCode(backend.put(`uploads/dp-${randomName()}/denied.txt`, bodyOf('x')), 'Forbidden');
      expect(front.seen()).toBe(1);
    });

    it('an unreachable store is BackendUnavailable, temporary', async () => {
      const { backendWith } = env();
      const backend = await backendWith({ endpoint: `http://127.0.0.1:${await freePort()}`, maxAttempts: 2 });
      const err = await expectCode(backend.put(`uploads/dp-${randomName()}/x`, bodyOf('x')), 'BackendUnavailable');
      expect(err.temporary).toBe(true);
      expect(err.message).toMatch(/could not be reached/);
    });

    it('a store that goes silent times out (socketTimeoutMs) as BackendUnavailable', async () => {
      const { backendWith } = env();
      const proxy = await proxied();
      proxy.set({ kind: 'blackhole' });
      const backend = await backendWith({ endpoint: proxy.url, maxAttempts: 1, socketTimeoutMs: 500 });
      const started = Date.now();
      await expectCode(backend.put(`uploads/dp-${randomName()}/x`, bodyOf('x')), 'BackendUnavailable');
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('a missing bucket is NotFound, saying so', async () => {
      const { backendWith } = env();
      const backend = await backendWith({ bucket: `no-such-${randomName()}` });
      const err = await expectCode(backend.put(`uploads/dp-${randomName()}/x`, bodyOf('x')), 'NotFound');
      expect(err.message).toMatch(/does not exist/);
    });

    it('create-only over an existing key is AlreadyExists and leaves it as it was', async () => {
      const { backend } = env();
      const key = `uploads/dp-${randomName()}/once.txt`;
      await backend.put(key, bodyOf('first'));
      await expectCode(backend.put(key, bodyOf('second'), { ifNoneMatch: '*' }), 'AlreadyExists');
      expect((await getBytes(backend, key)).toString()).toBe('first');
    });

    it('an upload aborted by its signal while the store is silent stops at once, nothing stored', async () => {
      const { backendWith } = env();
      const proxy = await proxied();
      proxy.set({ kind: 'blackhole' });
      const backend = await backendWith({ endpoint: proxy.url, maxAttempts: 3 });
      const key = `uploads/dp-${randomName()}/aborted.txt`;
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      await expectCode(backend.put(key, bodyOf('x'), { signal: controller.signal }), 'InvalidArgument');
      expect(Date.now() - started).toBeLessThan(3000);
      await expectCode(env().backend.head(key), 'NotFound');
    });
  });
}
