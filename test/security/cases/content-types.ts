import { randomBytes } from 'node:crypto';
import { type SecurityContext, bearer, grantFor } from '../context.js';
import type { Case } from './types.js';

const unsupported = { status: 415, code: 'UnsupportedType' };
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const HTML = '<!doctype html><script>fetch("/cdn/list?segment=uploads").then(r=>r.text()).then(alert)</script>';

/** Token upload of `body` declared as `type` into `segment`. */
async function sendAs(c: SecurityContext, segment: string, type: string, body: string | Buffer, sendType = type) {
  const g = await grantFor(c, { segment, filename: `typed-${randomBytes(3).toString('hex')}`, contentType: type });
  return fetch(g.uploadUrl, { method: 'POST', body, headers: { 'content-type': sendType } });
}

export const contentTypeCases: Case[] = [
  { name: 'HTML declared as a PNG image', want: unsupported, send: (c) => sendAs(c, 'videos', 'image/png', HTML) },
  { name: 'a PNG declared as an MP4 video', want: unsupported, send: (c) => sendAs(c, 'videos', 'video/mp4', PNG) },
  { name: 'an SVG with a script declared as a JPEG', want: unsupported, send: (c) => sendAs(c, 'videos', 'image/jpeg', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>') },
  { name: 'an executable declared as a WebM video', want: unsupported, send: (c) => sendAs(c, 'videos', 'video/webm', Buffer.concat([Buffer.from('MZ\x90\x00', 'latin1'), randomBytes(200)])) },
  { name: 'binary bytes declared as JSON ratings', want: unsupported, send: (c) => sendAs(c, 'ratings', 'application/json', Buffer.concat([Buffer.from([0, 1, 2, 3]), randomBytes(100)])) },
  { name: 'a text log with NUL bytes', want: unsupported, send: (c) => sendAs(c, 'logs', 'text/plain', Buffer.from('line one\n\0\0\0binary')) },
  { name: 'text that is not UTF-8 declared as a script', want: unsupported, send: (c) => sendAs(c, 'scripts', 'text/plain', Buffer.from([0x68, 0x69, 0xff, 0xfe, 0xc3, 0x28, 0x0a])) },
  { name: 'a ZIP declared as a PDF', want: unsupported, send: (c) => sendAs(c, 'scripts', 'application/pdf', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(300)])) },
  { name: 'a type the segment does not allow', want: unsupported, send: (c) => fetch(c.url('/cdn/upload-url?segment=videos&filename=page.html&contentType=text/html'), { headers: bearer(c.h.serviceToken) }) },
  { name: 'a body sent under another type than its grant', want: unsupported, send: (c) => sendAs(c, 'videos', 'video/mp4', HTML, 'text/html') },
  { name: 'a content type that is not a MIME type', want: { status: 400, code: 'InvalidArgument' }, send: (c) => fetch(c.url('/cdn/upload-url?segment=uploads&filename=a.bin&contentType=not%20a%20type'), { headers: bearer(c.h.serviceToken) }) },
  {
    name: 'Supabase: HTML declared as a PNG image',
    want: { status: 400, code: 'InvalidMimeType' },
    send: (c) => fetch(c.url('/storage/v1/object/videos/alice/pic.png'), { method: 'POST', headers: { ...bearer(c.h.serviceToken), 'content-type': 'image/png' }, body: HTML }),
  },
  {
    name: 'Supabase: copying HTML stored as an image into a segment that checks types',
    want: { status: 400, code: 'InvalidMimeType' },
    setup: async (c) => {
      // uploads has no type rules, so this lands as is; the copy into videos must judge its bytes.
      const planted = await fetch(c.url('/storage/v1/object/uploads/alice/fake.png'), { method: 'POST', headers: { ...bearer(c.alice), 'content-type': 'image/png', 'x-upsert': 'true' }, body: HTML });
      if (planted.status !== 200) throw new Error(`planting failed: ${planted.status}`);
    },
    send: (c) =>
      fetch(c.url('/storage/v1/object/copy'), {
        method: 'POST',
        headers: { ...bearer(c.h.serviceToken), 'content-type': 'application/json' },
        body: JSON.stringify({ bucketId: 'uploads', sourceKey: 'alice/fake.png', destinationBucket: 'videos', destinationKey: 'alice/fake.png' }),
      }),
  },
];

/** Bytes sent straight to S3 with a presigned PUT are judged when the upload is completed. */
contentTypeCases.push({
  name: 'HTML sent straight to the backend under a PNG grant, then completed',
  want: unsupported,
  only: (c) => c.h.storage.backend.capabilities.presign,
  send: async (c) => {
    const res = await fetch(c.url('/storage/presigned-upload'), {
      method: 'POST',
      headers: { ...bearer(c.alice), 'content-type': 'application/json' },
      body: JSON.stringify({ segment: 'videos', filename: `direct-${randomBytes(3).toString('hex')}.png`, contentType: 'image/png' }),
    });
    const grant = (await res.json()) as { upload: { url: string; method: string; headers: Record<string, string> }; complete: { url: string; body: unknown } };
    const put = await fetch(grant.upload.url, { method: grant.upload.method, headers: grant.upload.headers, body: HTML });
    if (put.status >= 300) throw new Error(`presigned PUT ${put.status}`);
    return fetch(grant.complete.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(grant.complete.body) });
  },
});
