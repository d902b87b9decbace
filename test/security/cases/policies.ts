import { type SecurityContext, bearer } from '../context.js';
import type { Case } from './types.js';

const notFound = { status: 404, code: 'NotFound' };
/** Supabase's API: HTTP 400, the real answer in the body. */
const supabaseNotFound = { status: 400, code: 'NoSuchKey' };
const supabaseDenied = { status: 400, code: 'AccessDenied' };
/** Nothing that names or sizes Alice's private file. */
const alicesSecret = (c: SecurityContext) => [c.aliceFile.id, 'secret.txt', c.aliceFile.etag.replace(/"/g, '')];
const supabase = (c: SecurityContext, path: string, init: RequestInit & { token?: string } = {}) =>
  fetch(c.url(`/storage/v1${path}`), { ...init, headers: { ...bearer(init.token ?? c.bob), 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });

export const policyCases: Case[] = [
  { name: 'Bob downloads Alice\'s file by id', want: notFound, send: (c) => fetch(c.url(`/cdn/download/${c.aliceFile.id}`), { headers: bearer(c.bob) }) },
  { name: 'Bob streams Alice\'s file by id', want: notFound, send: (c) => fetch(c.url(`/cdn/stream/${c.aliceFile.id}`), { headers: bearer(c.bob) }) },
  { name: 'Bob deletes Alice\'s file by id', want: notFound, send: (c) => fetch(c.url(`/cdn/files/${c.aliceFile.id}`), { method: 'DELETE', headers: bearer(c.bob) }) },
  { name: 'anonymous download of a private file', want: { status: 401, code: 'Unauthenticated' }, send: (c) => fetch(c.url(`/cdn/download/${c.aliceFile.id}`)) },
  { name: 'anonymous listing of a private segment', want: { status: 401, code: 'Unauthenticated' }, send: (c) => fetch(c.url('/cdn/list?segment=uploads')) },
  { name: 'anonymous upload URL', want: { status: 401, code: 'Unauthenticated' }, send: (c) => fetch(c.url('/cdn/upload-url?segment=uploads&filename=a.txt&contentType=text/plain')) },
  { name: 'Bob lists uploads and sees only his own', want: { status: 200, hides: alicesSecret }, send: (c) => fetch(c.url('/cdn/list?segment=uploads'), { headers: bearer(c.bob) }) },
  { name: 'Bob lists with Alice\'s folder as prefix', want: { status: 200, hides: alicesSecret }, send: (c) => fetch(c.url('/bucket/list/uploads?prefix=alice/'), { headers: bearer(c.bob) }) },
  {
    name: 'Bob\'s statistics leave out Alice\'s file',
    want: { status: 200, hides: () => [] },
    send: async (c) => {
      const res = await fetch(c.url('/bucket/stats'), { headers: bearer(c.bob) });
      const stats = (await res.clone().json()) as { segments: Record<string, { count: number; bytes: number }> };
      if (stats.segments.uploads!.count !== 1 || stats.segments.uploads!.bytes !== c.bobFile.size) throw new Error(`Bob sees ${JSON.stringify(stats.segments.uploads)} in uploads`);
      if (stats.segments.logs !== undefined) throw new Error('Bob sees the service-only logs named in his statistics');
      return res;
    },
  },
  {
    name: 'anonymous performance page counts only public bytes',
    want: { status: 200, hides: () => [] },
    send: async (c) => {
      const res = await fetch(c.url('/observability/performance'));
      const perf = (await res.clone().json()) as { utilisation: { segments: Record<string, { count: number }> } };
      if ((perf.utilisation.segments.uploads?.count ?? 0) !== 0) throw new Error('anonymous callers see the size of private uploads');
      return res;
    },
  },
  { name: 'Bob reads the service-only logs', want: notFound, send: (c) => fetch(c.url(`/cdn/download/${c.serviceLog.id}`), { headers: bearer(c.bob) }) },
  { name: 'Bob lists the service-only logs', want: { status: 403, code: 'Forbidden' }, send: (c) => fetch(c.url('/cdn/list?segment=logs'), { headers: bearer(c.bob) }) },
  { name: 'Bob asks to upload into the service-only logs', want: { status: 403, code: 'Forbidden' }, send: (c) => fetch(c.url('/cdn/upload-url?segment=logs&filename=mine.log&contentType=text/plain'), { headers: bearer(c.bob) }) },
  { name: 'anonymous read of a segment open to signed-in users', want: { status: 401, code: 'Unauthenticated' }, send: (c) => fetch(c.url(`/cdn/download/${c.aliceScript.id}`)) },
  { name: 'Supabase: Bob downloads Alice\'s file', want: supabaseNotFound, send: (c) => supabase(c, '/object/authenticated/uploads/alice/secret.txt') },
  { name: 'Supabase: Bob asks for the info of Alice\'s file', want: supabaseNotFound, send: (c) => supabase(c, '/object/info/authenticated/uploads/alice/secret.txt') },
  { name: 'Supabase: Bob deletes Alice\'s file', want: supabaseNotFound, send: (c) => supabase(c, '/object/uploads/alice/secret.txt', { method: 'DELETE' }) },
  { name: 'Supabase: Bob bulk-removes Alice\'s file', want: { status: 200, hides: alicesSecret }, send: (c) => supabase(c, '/object/uploads', { method: 'DELETE', body: JSON.stringify({ prefixes: ['alice/secret.txt'] }) }) },
  { name: 'Supabase: Bob overwrites Alice\'s file (upsert)', want: supabaseDenied, send: (c) => fetch(c.url('/storage/v1/object/uploads/alice/secret.txt'), { method: 'PUT', headers: { ...bearer(c.bob), 'content-type': 'text/plain', 'x-upsert': 'true' }, body: 'mine now' }) },
  { name: 'Supabase: Bob moves Alice\'s file into his folder', want: supabaseNotFound, send: (c) => supabase(c, '/object/move', { method: 'POST', body: JSON.stringify({ bucketId: 'uploads', sourceKey: 'alice/secret.txt', destinationKey: 'bob/stolen.txt' }) }) },
  { name: 'Supabase: Bob copies Alice\'s file into his folder', want: supabaseNotFound, send: (c) => supabase(c, '/object/copy', { method: 'POST', body: JSON.stringify({ bucketId: 'uploads', sourceKey: 'alice/secret.txt', destinationKey: 'bob/copied.txt' }) }) },
  { name: 'Supabase: Bob copies his file over Alice\'s', want: supabaseDenied, send: (c) => fetch(c.url('/storage/v1/object/copy'), { method: 'POST', headers: { ...bearer(c.bob), 'content-type': 'application/json', 'x-upsert': 'true' }, body: JSON.stringify({ bucketId: 'uploads', sourceKey: 'bob/own.txt', destinationKey: 'alice/secret.txt' }) }) },
  { name: 'Supabase: Bob signs a URL for Alice\'s file', want: supabaseNotFound, send: (c) => supabase(c, '/object/sign/uploads/alice/secret.txt', { method: 'POST', body: JSON.stringify({ expiresIn: 60 }) }) },
  { name: 'Supabase: Bob lists Alice\'s folder (v2)', want: { status: 200, hides: alicesSecret }, send: (c) => supabase(c, '/object/list-v2/uploads', { method: 'POST', body: JSON.stringify({ prefix: 'alice/' }) }) },
  { name: 'Supabase: Bob lists the bucket root (v1)', want: { status: 200, hides: (c) => [...alicesSecret(c), '"alice"'] }, send: (c) => supabase(c, '/object/list/uploads', { method: 'POST', body: JSON.stringify({ prefix: '' }) }) },
  {
    name: 'Supabase: Bob starts a resumable upload over Alice\'s file',
    // TUS routes keep real statuses (TUS clients need them).
    want: { status: 403, code: 'AccessDenied' },
    send: (c) =>
      fetch(c.url('/storage/v1/upload/resumable'), {
        method: 'POST',
        headers: {
          ...bearer(c.bob),
          'tus-resumable': '1.0.0',
          'upload-length': '5',
          'x-upsert': 'true',
          'upload-metadata': `bucketName ${Buffer.from('uploads').toString('base64')},objectName ${Buffer.from('alice/secret.txt').toString('base64')}`,
        },
      }),
  },
];
