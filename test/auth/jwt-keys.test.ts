import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, base64url, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtAuthority } from '../../src/auth/jwt.js';
import { loadSecurityConfig } from '../../src/config/security.js';

const secret = 'h'.repeat(40);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = () => Math.floor(Date.now() / 1000);

function user(alg: 'RS256' | 'ES256', kid?: string, claims: Record<string, unknown> = {}) {
  return new SignJWT({ role: 'authenticated', ...claims }).setProtectedHeader({ alg, ...(kid ? { kid } : {}) }).setSubject('carol').setAudience('authenticated').setExpirationTime('10m');
}

/** HS256 over `header.payload` with any bytes as the key (for the algorithm-confusion attack). */
function hmacToken(key: string | Buffer, payload: Record<string, unknown>): string {
  const head = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url.encode(JSON.stringify(payload));
  return `${head}.${body}.${createHmac('sha256', key).update(`${head}.${body}`).digest('base64url')}`;
}

describe('JWT verification through a JWKS URL', () => {
  let server: Server;
  let url: string;
  let jwt: JwtAuthority;
  let fetches = 0;
  beforeAll(async () => {
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    jwt = new JwtAuthority(secret, loadSecurityConfig({ JWT_JWKS_URL: url }).jwt);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('accepts RS256 and ES256 tokens signed by the published keys, and still its own HS256', async () => {
    expect(await jwt.verify(await user('RS256', 'rsa-1').sign(rsa.privateKey))).toEqual({ role: 'authenticated', sub: 'carol' });
    expect(await jwt.verify(await user('ES256', 'ec-1').sign(ec.privateKey))).toEqual({ role: 'authenticated', sub: 'carol' });
    expect(await jwt.verify(await jwt.mint({ role: 'authenticated', sub: 'dave', ttlSeconds: 60 }))).toEqual({ role: 'authenticated', sub: 'dave' });
    expect(fetches).toBeGreaterThan(0);
  });

  it('refuses a key it does not publish, HS256 signed with a published public key, and a wrong audience', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expect(jwt.verify(await user('RS256', 'rsa-1').sign(stranger.privateKey))).rejects.toMatchObject({ code: 'Unauthenticated' });
    await expect(jwt.verify(await user('RS256', 'unknown').sign(stranger.privateKey))).rejects.toMatchObject({ code: 'Unauthenticated' });
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(jwt.verify(hmacToken(pem, { role: 'service_role', aud: 'authenticated', exp: now() + 600 }))).rejects.toMatchObject({ code: 'Unauthenticated' });
    await expect(jwt.verify(await user('ES256', 'ec-1').setAudience('elsewhere').sign(ec.privateKey))).rejects.toMatchObject({ code: 'Unauthenticated' });
  });

  it('says the identity provider is unavailable (503), not that the token is bad, when the JWKS cannot be fetched', async () => {
    const down = new JwtAuthority(secret, loadSecurityConfig({ JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json' }).jwt);
    await expect(down.verify(await user('RS256', 'rsa-1').sign(rsa.privateKey))).rejects.toMatchObject({ code: 'BackendUnavailable' });
  });
});

describe('JWT verification with a PEM public key', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bg-jwt-'));
    await writeFile(join(dir, 'rsa.pem'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(dir, 'ec.pem'), ec.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(dir, 'weak.pem'), generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const authority = (env: Record<string, string>) => new JwtAuthority(secret, loadSecurityConfig(env).jwt);

  it('binds the key to its algorithm: ES256 key, ES256 tokens only', async () => {
    const jwt = authority({ JWT_PUBLIC_KEY_FILE: join(dir, 'ec.pem') });
    expect(await jwt.verify(await user('ES256').sign(ec.privateKey))).toEqual({ role: 'authenticated', sub: 'carol' });
    await expect(jwt.verify(await user('RS256').sign(rsa.privateKey))).rejects.toMatchObject({ code: 'Unauthenticated' });
  });

  it('refuses the RSA key used as an HMAC secret (algorithm confusion)', async () => {
    const jwt = authority({ JWT_PUBLIC_KEY_FILE: join(dir, 'rsa.pem') });
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    for (const key of [pem, pem.trim(), rsa.publicKey.export({ type: 'spki', format: 'der' })]) {
      await expect(jwt.verify(hmacToken(key, { role: 'service_role', aud: 'authenticated', exp: now() + 600 }))).rejects.toMatchObject({ code: 'Unauthenticated' });
    }
  });

  it('bounds clock skew: a little past exp passes, beyond the skew does not', async () => {
    const jwt = authority({ JWT_PUBLIC_KEY_FILE: join(dir, 'rsa.pem'), JWT_CLOCK_SKEW_SECONDS: '20' });
    expect(await jwt.verify(await user('RS256').setExpirationTime(now() - 10).sign(rsa.privateKey))).toMatchObject({ sub: 'carol' });
    await expect(jwt.verify(await user('RS256').setExpirationTime(now() - 40).sign(rsa.privateKey))).rejects.toMatchObject({ code: 'Unauthenticated', message: 'token has expired' });
  });

  it('checks the issuer and the configured audiences', async () => {
    const jwt = authority({ JWT_PUBLIC_KEY_FILE: join(dir, 'rsa.pem'), JWT_ISSUER: 'https://id.example', JWT_AUDIENCE: 'app-a,app-b' });
    expect(await jwt.verify(await user('RS256').setIssuer('https://id.example').setAudience('app-b').sign(rsa.privateKey))).toMatchObject({ sub: 'carol' });
    await expect(jwt.verify(await user('RS256').setIssuer('https://evil.example').setAudience('app-b').sign(rsa.privateKey))).rejects.toMatchObject({ code: 'Unauthenticated' });
    await expect(jwt.verify(await user('RS256').setIssuer('https://id.example').sign(rsa.privateKey))).rejects.toMatchObject({ code: 'Unauthenticated' });
  });

  it('without HS256 in JWT_ALGORITHMS refuses HS256 tokens and cannot mint', async () => {
    const jwt = authority({ JWT_PUBLIC_KEY_FILE: join(dir, 'rsa.pem'), JWT_ALGORITHMS: 'RS256' });
    const hs = await new JwtAuthority(secret).mint({ role: 'service_role', sub: 'x', ttlSeconds: 60 });
    await expect(jwt.verify(hs)).rejects.toMatchObject({ code: 'Unauthenticated' });
    await expect(jwt.mint({ role: 'service_role', ttlSeconds: 60 })).rejects.toMatchObject({ code: 'Unsupported' });
    expect(jwt.canMint).toBe(false);
  });

  it('stops start-up on a weak, unreadable or doubled key source', () => {
    expect(() => authority({ JWT_PUBLIC_KEY_FILE: join(dir, 'weak.pem') })).toThrow(/2048 bits/);
    expect(() => authority({ JWT_PUBLIC_KEY_FILE: join(dir, 'missing.pem') })).toThrow(/JWT_PUBLIC_KEY_FILE/);
    expect(() => authority({ JWT_PUBLIC_KEY_FILE: join(dir, 'rsa.pem'), JWT_JWKS_URL: 'https://id.example/jwks' })).toThrow(/one key source/);
    expect(() => loadSecurityConfig({ JWT_ALGORITHMS: 'RS256' })).toThrow(/JWT_ALGORITHMS/);
    expect(() => loadSecurityConfig({ JWT_ALGORITHMS: 'none', JWT_JWKS_URL: 'https://id.example/jwks' })).toThrow(/JWT_ALGORITHMS/);
  });
});
