import { bearer } from '../context.js';
import type { Case } from './types.js';

const uploadUrl = (segment: string, filename: string) => `/cdn/upload-url?segment=${encodeURIComponent(segment)}&filename=${encodeURIComponent(filename)}&contentType=text/plain`;
const invalidKey = { status: 400, code: 'InvalidKey' };
/** Supabase's API answers client errors with HTTP 400 and the code in the body. */
const supabaseInvalidKey = { status: 400, code: 'InvalidKey' };

const hostileNames: [string, string][] = [
  ['a ".." that climbs out', '../escape.txt'],
  ['a ".." in the middle', 'a/../../escape.txt'],
  ['an absolute path', '/etc/passwd'],
  ['a backslash', 'a\\..\\b.txt'],
  ['an empty part', 'a//b.txt'],
  ['a reserved temp-file name', '.bg-tmp-1-x'],
  ['a NUL byte', 'a\u0000b.txt'],
  ['a newline (header injection)', 'a\r\nX-Injected: 1.txt'],
  ['more than 1024 UTF-8 bytes', `${'é'.repeat(520)}.txt`],
  ['a "." part', './a.txt'],
];

export const keyCases: Case[] = [
  ...hostileNames.map(([what, name]): Case => ({
    name: `upload URL for a file name with ${what}`,
    want: invalidKey,
    send: (c) => fetch(c.url(uploadUrl('uploads', name)), { headers: bearer(c.h.serviceToken) }),
  })),
  {
    name: 'upload URL for an unknown segment',
    want: invalidKey,
    send: (c) => fetch(c.url(uploadUrl('..', 'x.txt')), { headers: bearer(c.h.serviceToken) }),
  },
  {
    name: 'Supabase upload to an encoded "../" path',
    want: supabaseInvalidKey,
    send: (c) => fetch(c.url('/storage/v1/object/uploads/alice/..%2F..%2Fescape.txt'), { method: 'POST', headers: { ...bearer(c.alice), 'content-type': 'text/plain' }, body: 'x' }),
  },
  {
    name: 'Supabase delete of a "../" path',
    want: supabaseInvalidKey,
    send: (c) => fetch(c.url('/storage/v1/object/uploads/bob/..%2Falice%2Fsecret.txt'), { method: 'DELETE', headers: bearer(c.bob) }),
  },
  {
    name: 'listing with a prefix that climbs out',
    want: invalidKey,
    send: (c) => fetch(c.url('/bucket/list/uploads?prefix=../logs/'), { headers: bearer(c.h.serviceToken) }),
  },
  {
    name: 'listing with a malformed cursor',
    want: { status: 400, code: 'InvalidArgument' },
    send: (c) => fetch(c.url('/cdn/list?segment=uploads&cursor=%25%25%25'), { headers: bearer(c.h.serviceToken) }),
  },
  {
    name: 'a download id that is a path',
    want: { status: 404, code: 'NotFound' },
    send: (c) => fetch(c.url('/cdn/download/..%2F..%2Fetc%2Fpasswd'), { headers: bearer(c.h.serviceToken) }),
  },
  {
    name: 'a delete id that is a path',
    want: { status: 404, code: 'NotFound' },
    send: (c) => fetch(c.url('/cdn/files/..%2Fuploads%2Falice'), { method: 'DELETE', headers: bearer(c.h.serviceToken) }),
  },
];

/** URLs the router itself cannot take apart still get a JSON refusal in the right shape. */
keyCases.push(
  { name: 'a path with broken percent-encoding', want: { status: 400, code: 'InvalidArgument' }, send: (c) => fetch(c.url('/cdn/download/%E0%A4%A'), { headers: bearer(c.h.serviceToken) }) },
  { name: 'a path parameter over the length limit', want: { status: 400, code: 'InvalidArgument' }, send: (c) => fetch(c.url(`/cdn/files/${'x'.repeat(300)}`), { method: 'DELETE', headers: bearer(c.h.serviceToken) }) },
  { name: 'a Supabase path parameter over the length limit', want: { status: 400, code: 'InvalidRequest' }, send: (c) => fetch(c.url(`/storage/v1/bucket/${'b'.repeat(300)}`), { method: 'DELETE', headers: bearer(c.h.serviceToken) }) },
);
