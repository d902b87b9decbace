import { bearer } from '../context.js';
import type { Case } from './types.js';

const unsatisfiable = { status: 416, code: 'RangeNotSatisfiable' };
const stream = (range: string, extra: Record<string, string> = {}) => (c: Parameters<Case['send']>[0]) => fetch(c.url(`/cdn/stream/${c.clip.id}`), { headers: { range, ...extra } });

/** Ranges that must be refused; over-long or multiple ranges are answered with the whole object (see the suite). */
export const rangeCases: Case[] = [
  { name: 'a range starting at the end of the object', want: unsatisfiable, send: stream('bytes=20-') },
  { name: 'a range starting past the end', want: unsatisfiable, send: stream('bytes=1000-2000') },
  { name: 'an empty suffix range', want: unsatisfiable, send: stream('bytes=-0') },
  { name: 'a range that ends before it starts', want: unsatisfiable, send: stream('bytes=9-3') },
  { name: 'a range beyond any safe integer', want: unsatisfiable, send: stream('bytes=99999999999999999999999-') },
  {
    name: 'a range on a Supabase download past the end',
    want: { status: 416, code: 'InvalidRange' },
    send: (c) => fetch(c.url('/storage/v1/object/public/videos/ranges/clip.mp4'), { headers: { range: 'bytes=500-' } }),
  },
  {
    name: 'a conditional delete header does not bypass the policy',
    want: { status: 404, code: 'NotFound' },
    send: (c) => fetch(c.url(`/cdn/files/${c.aliceFile.id}`), { method: 'DELETE', headers: { ...bearer(c.bob), 'if-match': '*', 'x-http-method-override': 'GET' } }),
  },
  {
    name: 'a method override header does not turn a GET into a DELETE',
    want: { status: 401, code: 'Unauthenticated' },
    send: (c) => fetch(c.url(`/cdn/download/${c.aliceFile.id}`), { headers: { 'x-http-method-override': 'DELETE', 'x-forwarded-user': 'alice' } }),
  },
];
