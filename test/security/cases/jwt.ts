import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT, base64url } from 'jose';
import type { SecurityContext } from '../context.js';
import type { Case } from './types.js';

const unauthenticated = { status: 401, code: 'Unauthenticated' };
const secretOf = (c: SecurityContext) => new TextEncoder().encode(c.h.storage.config.jwtSecret!);
const now = () => Math.floor(Date.now() / 1000);

/** A token that would make its bearer the service, were it accepted. */
const claims = (extra: Record<string, unknown> = {}) => ({ role: 'service_role', sub: 'attacker', ...extra });

function hs256(c: SecurityContext, set: (jwt: SignJWT) => SignJWT = (j) => j): Promise<string> {
  return set(new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setAudience('authenticated').setExpirationTime('1h')).sign(secretOf(c));
}

/** Sends the token to a route only the service may use (service-only segment listing). */
const withToken = (token: (c: SecurityContext) => Promise<string> | string) => async (c: SecurityContext) =>
  fetch(c.url('/cdn/list?segment=logs'), { headers: { authorization: `Bearer ${await token(c)}` } });

/** HS256 "signed" with the RSA public key as the HMAC secret: the classic algorithm confusion. */
async function confused(c: SecurityContext): Promise<string> {
  const header = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url.encode(JSON.stringify({ ...claims(), aud: 'authenticated', exp: now() + 3600 }));
  const { createHmac } = await import('node:crypto');
  const sig = createHmac('sha256', c.rsaPublicPem).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

export const jwtCases: Case[] = [
  { name: 'a JWT with alg "none"', want: unauthenticated, send: withToken(() => new UnsecuredJWT(claims()).setAudience('authenticated').setExpirationTime('1h').encode()) },
  { name: 'a JWT whose exp has passed (beyond the clock skew)', want: unauthenticated, send: withToken((c) => hs256(c, (j) => j.setExpirationTime(now() - 120))) },
  { name: 'a JWT without exp', want: unauthenticated, send: withToken((c) => new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setAudience('authenticated').sign(secretOf(c))) },
  { name: 'a JWT for another audience', want: unauthenticated, send: withToken((c) => hs256(c, (j) => j.setAudience('other-app'))) },
  { name: 'a service JWT with the anon audience', want: unauthenticated, send: withToken((c) => hs256(c, (j) => j.setAudience('anon'))) },
  { name: 'a JWT not valid before a future time', want: unauthenticated, send: withToken((c) => hs256(c, (j) => j.setNotBefore(now() + 600))) },
  { name: 'a JWT signed with another secret', want: unauthenticated, send: withToken(() => new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setAudience('authenticated').setExpirationTime('1h').sign(new TextEncoder().encode('y'.repeat(48)))) },
  { name: 'an HS256 JWT signed with the RSA public key (algorithm confusion)', want: unauthenticated, send: withToken(confused) },
  { name: 'an RS256 JWT signed by a key we do not trust', want: unauthenticated, send: withToken(() => new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).setAudience('authenticated').setExpirationTime('1h').sign(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)) },
  { name: 'an ES256 JWT where only an RSA key is configured', want: unauthenticated, send: withToken(() => new SignJWT(claims()).setProtectedHeader({ alg: 'ES256' }).setAudience('authenticated').setExpirationTime('1h').sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)) },
  { name: 'an HS512 JWT (algorithm not allowed)', want: unauthenticated, send: withToken((c) => new SignJWT(claims()).setProtectedHeader({ alg: 'HS512' }).setAudience('authenticated').setExpirationTime('1h').sign(secretOf(c))) },
  { name: 'a JWT with an unknown role', want: unauthenticated, send: withToken((c) => new SignJWT(claims({ role: 'supabase_admin' })).setProtectedHeader({ alg: 'HS256' }).setAudience('authenticated').setExpirationTime('1h').sign(secretOf(c))) },
  { name: 'a user JWT whose sub holds a "/"', want: unauthenticated, send: withToken((c) => new SignJWT({ role: 'authenticated' }).setProtectedHeader({ alg: 'HS256' }).setSubject('bob/../alice').setAudience('authenticated').setExpirationTime('1h').sign(secretOf(c))) },
  { name: 'a JWT with its payload swapped for another (signature kept)', want: unauthenticated, send: withToken(async (c) => {
    const [head, , sig] = (await c.h.userToken('bob')).split('.');
    return `${head}.${base64url.encode(JSON.stringify({ role: 'service_role', aud: 'authenticated', exp: now() + 3600 }))}.${sig}`;
  }) },
  { name: 'a bearer that is not a JWT', want: unauthenticated, send: withToken(() => 'not.a.jwt') },
  { name: 'Basic instead of Bearer', want: unauthenticated, send: (c) => fetch(c.url('/cdn/list?segment=logs'), { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } }) },
  {
    name: 'a forged JWT as Supabase apikey',
    want: { status: 400, code: 'AccessDenied' },
    send: async (c) => fetch(c.url('/storage/v1/object/list/logs'), { method: 'POST', headers: { apikey: await confused(c), 'content-type': 'application/json' }, body: '{"prefix":""}' }),
  },
];
