import { randomBytes } from 'node:crypto';
import { type SecurityContext, bearer, grantFor } from '../context.js';
import type { Case } from './types.js';

const invalidToken = { status: 401, code: 'InvalidToken' };
const post = (url: string, body: string | Buffer = 'x', type = 'text/plain') => fetch(url, { method: 'POST', body, headers: { 'content-type': type } });

/** A signed link made the proper way, for the cases that then tamper with it. */
async function signedLink(c: SecurityContext, id: string, token = c.alice, expiresIn = 600): Promise<URL> {
  const res = await fetch(c.url('/cdn/sign'), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify({ id, expiresIn }) });
  if (res.status !== 200) throw new Error(`sign ${res.status}: ${await res.text()}`);
  return new URL(((await res.json()) as { url: string }).url);
}

/** An upload token the catalog accepts but whose grant has expired (signed like a real one). */
async function expiredToken(c: SecurityContext): Promise<string> {
  const nonce = randomBytes(24).toString('base64url');
  const expiresAt = new Date(Math.floor(Date.now() / 1000 - 60) * 1000);
  const fields = { key: 'uploads/late.txt', contentType: 'text/plain', maxBytes: 10, expiresAt };
  const token = `${nonce}${c.h.storage.ctx.signer.sign({ method: 'PUT', key: fields.key, expiresAt: expiresAt.getTime() / 1000, maxBytes: 10, contentType: 'text/plain', nonce })}`;
  await c.h.storage.catalog.createUploadToken({ token, ...fields, owner: null });
  return token;
}

export const tokenCases: Case[] = [
  {
    name: 'an upload token used a second time',
    want: invalidToken,
    setup: async (c) => {
      const g = await grantFor(c, { segment: 'uploads', filename: `once-${randomBytes(3).toString('hex')}.txt`, contentType: 'text/plain' });
      const first = await post(g.uploadUrl, 'first');
      if (first.status !== 201) throw new Error(`first use ${first.status}`);
      return g.uploadUrl;
    },
    send: (_c, uploadUrl) => post(uploadUrl as string, 'second'),
  },
  { name: 'a forged upload token of the right shape', want: invalidToken, send: (c) => post(c.url(`/cdn/upload/${randomBytes(56).toString('base64url').slice(0, 75)}`)) },
  { name: 'a malformed upload token', want: invalidToken, send: (c) => post(c.url('/cdn/upload/..%2F..%2Fetc%2Fpasswd')) },
  {
    name: 'an upload token with one character of its signature changed',
    want: invalidToken,
    send: async (c) => {
      const g = await grantFor(c, { segment: 'uploads', filename: 'flip.txt', contentType: 'text/plain' });
      const token: string = g.token;
      const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
      return post(c.url(`/cdn/upload/${flipped}`));
    },
  },
  { name: 'an expired upload token', want: invalidToken, send: async (c) => post(c.url(`/cdn/upload/${await expiredToken(c)}`)) },
  {
    name: 'an upload token written into the catalog for another key (no valid binding)',
    want: invalidToken,
    send: async (c) => {
      const token = randomBytes(56).toString('base64url').slice(0, 75);
      await c.h.storage.catalog.createUploadToken({ token, key: 'uploads/alice/secret.txt', contentType: 'text/plain', maxBytes: 100, owner: 'alice', expiresAt: new Date(Date.now() + 60_000) });
      return post(c.url(`/cdn/upload/${token}`), 'overwritten');
    },
  },
  {
    name: 'completing a direct upload with a forged token',
    want: invalidToken,
    only: (c) => c.h.storage.ctx.backend.capabilities.presign,
    send: (c) => fetch(c.url('/storage/presigned-upload/complete'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: randomBytes(56).toString('base64url').slice(0, 75) }) }),
  },
  {
    // Every upload to such a backend goes through the service: there is nothing to complete, whatever the token.
    name: 'completing a direct upload on a backend that takes none',
    want: { status: 400, code: 'InvalidArgument' },
    only: (c) => !c.h.storage.ctx.backend.capabilities.presign,
    send: (c) => fetch(c.url('/storage/presigned-upload/complete'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: randomBytes(56).toString('base64url').slice(0, 75) }) }),
  },
  {
    name: 'a signed link whose signature was changed',
    want: invalidToken,
    send: async (c) => {
      const link = await signedLink(c, c.aliceFile.id);
      const sig = link.searchParams.get('signature')!;
      link.searchParams.set('signature', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
      return fetch(link);
    },
  },
  {
    name: 'a signed link with its expiry pushed later',
    want: invalidToken,
    send: async (c) => {
      const link = await signedLink(c, c.aliceFile.id);
      link.searchParams.set('expires', String(Number(link.searchParams.get('expires')) + 86_400));
      return fetch(link);
    },
  },
  {
    name: 'a signed link moved onto another object',
    want: invalidToken,
    send: async (c) => {
      const link = await signedLink(c, c.aliceFile.id);
      link.pathname = `/cdn/download/${c.bobFile.id}`;
      return fetch(link);
    },
  },
  {
    name: 'a signed link that has expired',
    want: invalidToken,
    send: async (c) => {
      const expires = Math.floor(Date.now() / 1000) - 5;
      const signature = c.h.storage.ctx.signer.sign({ method: 'GET', key: c.aliceFile.key, expiresAt: expires });
      return fetch(c.url(`/cdn/download/${c.aliceFile.id}?expires=${expires}&signature=${signature}`));
    },
  },
  { name: 'a signed link without its signature', want: invalidToken, send: (c) => fetch(c.url(`/cdn/stream/${c.aliceFile.id}?expires=9999999999`)) },
  {
    name: 'a signed link used to delete',
    want: { status: 401, code: 'Unauthenticated' },
    send: async (c) => {
      const link = await signedLink(c, c.aliceFile.id);
      return fetch(c.url(`/cdn/files/${c.aliceFile.id}${link.search}`), { method: 'DELETE' });
    },
  },
  {
    name: 'a signed link asked for by someone who may not read the object',
    want: { status: 404, code: 'NotFound' },
    send: (c) => fetch(c.url('/cdn/sign'), { method: 'POST', headers: { ...bearer(c.bob), 'content-type': 'application/json' }, body: JSON.stringify({ id: c.aliceFile.id }) }),
  },
  {
    name: 'a signed link asked for longer than the maximum lifetime',
    want: { status: 400, code: 'InvalidArgument' },
    send: (c) => fetch(c.url('/cdn/sign'), { method: 'POST', headers: { ...bearer(c.alice), 'content-type': 'application/json' }, body: JSON.stringify({ id: c.aliceFile.id, expiresIn: 30 * 86_400 }) }),
  },
  {
    name: 'a Supabase signed download URL with a forged token',
    want: { status: 400, code: 'InvalidJWT' },
    send: (c) => fetch(c.url('/storage/v1/object/sign/uploads/alice/secret.txt?token=eyJhbGciOiJIUzI1NiJ9.eyJ1cmwiOiJ1cGxvYWRzL2FsaWNlL3NlY3JldC50eHQifQ.c2lnbmF0dXJl')),
  },
  {
    name: 'a Supabase signed upload token used for another path',
    want: { status: 400, code: 'InvalidSignature' },
    send: async (c) => {
      const res = await fetch(c.url('/storage/v1/object/upload/sign/uploads/bob/mine.txt'), { method: 'POST', headers: bearer(c.bob) });
      const { token } = (await res.json()) as { token: string };
      return fetch(c.url(`/storage/v1/object/upload/sign/uploads/alice/secret.txt?token=${token}`), { method: 'PUT', headers: { 'content-type': 'text/plain', 'x-upsert': 'true' }, body: 'overwritten' });
    },
  },
];
