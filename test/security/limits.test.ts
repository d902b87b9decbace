import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, json, rawRequest } from '../support/http.js';
import { type ServiceHandle, startService } from '../support/service.js';
import { tmpdir } from 'node:os';
import { loadConfig } from '../../src/config/index.js';
import type { ServiceContext } from '../../src/service/context.js';
import { encryptionAtRest } from '../../src/service/status.js';

describe('rate limits', () => {
  let h: ServiceHandle;
  beforeAll(async () => {
    h = await startService({ env: { BHIV_RATE_LIMIT_PER_MINUTE: '5' } });
  });
  afterAll(async () => h?.stop());
  const hit = (headers: Record<string, string> = {}, path = '/healthz') => fetch(`${h.url}${path}`, { headers });

  it('answers the request over the limit with 429 RateLimited JSON and Retry-After, per user and per address', async () => {
    const alice = await h.userToken('alice');
    for (let i = 0; i < 5; i++) expect((await hit(auth(alice))).status).toBe(200);
    const over = await hit(auth(alice));
    expect(over.status).toBe(429);
    expect((await json(over)).error.code).toBe('RateLimited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.headers.get('x-content-type-options')).toBe('nosniff');
    // Bob has his own budget; so does the anonymous address, and forged tokens count against it.
    expect((await hit(auth(await h.userToken('bob')))).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await hit()).status).toBe(200);
    expect((await hit(auth('not.a.valid-token'))).status).toBe(401);
    expect((await hit()).status).toBe(429);
    expect((await hit(auth('forged.token.again'))).status).toBe(429);
    // The operator's service token is never limited.
    for (let i = 0; i < 8; i++) expect((await hit(auth(h.serviceToken))).status).toBe(200);
  });

  it('answers the Supabase-compatible API in its own shape', async () => {
    const carol = await h.userToken('carol');
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) last = await fetch(`${h.url}/storage/v1/bucket`, { headers: auth(carol) });
    expect(last!.status).toBe(429);
    expect(await json(last!)).toMatchObject({ statusCode: '429', code: 'SlowDown' });
  });
});

describe('slow clients and timeouts', () => {
  let h: ServiceHandle;
  beforeAll(async () => {
    h = await startService({ env: { BHIV_IDLE_TIMEOUT_MS: '10000', BHIV_HEADERS_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => h?.stop());

  it('cuts off headers trickled in slower than BHIV_HEADERS_TIMEOUT_MS, even though the socket is never idle', async () => {
    const { hostname, port } = new URL(h.url);
    const { connect } = await import('node:net');
    const started = Date.now();
    const closed = await new Promise<{ ms: number; response: string }>((resolve) => {
      const socket = connect(Number(port), hostname);
      let response = '';
      socket.on('data', (d) => (response += d.toString('latin1')));
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => socket.write(`X-Drip-${randomBytes(2).toString('hex')}: 1\r\n`), 200);
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ ms: Date.now() - started, response });
      });
      setTimeout(() => socket.destroy(), 8000);
    });
    expect(closed.ms).toBeLessThan(4000);
    expect(closed.response).toMatch(/^HTTP\/1\.1 408/);
    expect(closed.response).toContain('"code":"RequestTimeout"');
  });

  it('refuses timeouts that contradict each other at start-up', async () => {
    await expect(startService({ env: { BHIV_REQUEST_TIMEOUT_MS: '1000', BHIV_HEADERS_TIMEOUT_MS: '5000' } })).rejects.toMatchObject({ code: 'ConfigInvalid' });
  });

  it('keeps a whole request within BHIV_REQUEST_TIMEOUT_MS when set', async () => {
    const strict = await startService({ env: { BHIV_IDLE_TIMEOUT_MS: '10000', BHIV_HEADERS_TIMEOUT_MS: '1000', BHIV_REQUEST_TIMEOUT_MS: '1500' } });
    try {
      const started = Date.now();
      const { closedByServer } = await rawRequest(strict.url, 'POST /cdn/upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nslow', { timeoutMs: 8000 });
      expect(closedByServer).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await strict.stop();
    }
  });
});

describe('status reports encryption at rest', () => {
  it.each([
    ['s3', undefined, 'none'],
    ['s3', 'aes256', 'sse:AES256'],
    ['minio', 'aws:kms', 'sse:aws:kms'],
  ])('%s with S3_SSE=%s: %s', (backend, sse, atRest) => {
    const config = loadConfig({ BHIV_STORAGE_BACKEND: backend, BHIV_BUCKET_PATH: tmpdir(), ...(sse ? { S3_SSE: sse } : {}) });
    expect(encryptionAtRest({ config } as ServiceContext)).toEqual({ atRest });
  });

  it.each([
    ['local, no key', 'none', {}],
    ['local with BHIV_ENCRYPTION_KEY', 'local-aes-256-gcm', { BHIV_ENCRYPTION_KEY: randomBytes(32).toString('hex') }],
  ])('%s: %s', async (_what, atRest, env: Record<string, string>) => {
    const h = await startService({ env });
    try {
      const status = await json(await fetch(`${h.url}/storage/status`));
      expect(status.encryption).toEqual({ atRest });
      expect(status.backend.capabilities.serverSideEncryption).toBe(atRest !== 'none');
      // The configuration (with the variables) is shown to service_role only: the key must not be in it.
      const full = await json(await fetch(`${h.url}/storage/status`, { headers: auth(h.serviceToken) }));
      expect(full.config.variables).toBeDefined();
      if ('BHIV_ENCRYPTION_KEY' in env) {
        expect(JSON.stringify(status)).not.toContain(env.BHIV_ENCRYPTION_KEY);
        expect(JSON.stringify(full)).not.toContain(env.BHIV_ENCRYPTION_KEY);
        expect(full.config.variables.BHIV_ENCRYPTION_KEY).toBe('***');
      }
      expect(status.policies.uploads).toEqual({ read: 'owner', list: 'owner', write: 'owner', delete: 'owner' });
    } finally {
      await h.stop();
    }
  });
});
