import { randomBytes } from 'node:crypto';
import { bearer, grantFor } from '../context.js';
import type { Case, RawCase } from './types.js';

const tooLarge = { status: 413, code: 'TooLarge' };
const MiB = 1024 * 1024;

/** A body sent in pieces, without Content-Length. */
function chunked(pieces: number, size: number): RequestInit {
  const stream = new ReadableStream({
    start(controller) {
      for (let i = 0; i < pieces; i++) controller.enqueue(randomBytes(size));
      controller.close();
    },
  });
  return { method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit;
}

export const bodyCases: Case[] = [
  {
    name: 'a body over the size the grant was made for (Content-Length)',
    want: tooLarge,
    send: async (c) => {
      const g = await grantFor(c, { segment: 'uploads', filename: 'sized.bin', contentType: 'application/octet-stream', size: 100 });
      return fetch(g.uploadUrl, { method: 'POST', body: randomBytes(101), headers: { 'content-type': 'application/octet-stream' } });
    },
  },
  {
    name: 'a chunked body that grows past the grant while streaming',
    want: tooLarge,
    send: async (c) => {
      const g = await grantFor(c, { segment: 'uploads', filename: 'grows.bin', contentType: 'application/octet-stream', size: 1000 });
      return fetch(g.uploadUrl, chunked(10, 300));
    },
  },
  {
    name: 'a chunked body past MAX_UPLOAD_SIZE_MB with no declared size',
    want: tooLarge,
    send: async (c) => {
      const g = await grantFor(c, { segment: 'uploads', filename: 'huge.bin', contentType: 'application/octet-stream' });
      return fetch(g.uploadUrl, chunked(5, MiB / 2 + 1));
    },
  },
  {
    name: 'an upload URL asked for more than the segment allows',
    want: tooLarge,
    send: (c) => fetch(c.url(`/cdn/upload-url?segment=uploads&filename=big.bin&size=${3 * MiB}`), { headers: bearer(c.h.serviceToken) }),
  },
  {
    name: 'a negative declared size',
    want: { status: 400, code: 'InvalidArgument' },
    send: (c) => fetch(c.url('/cdn/upload-url?segment=uploads&filename=neg.bin&size=-1'), { headers: bearer(c.h.serviceToken) }),
  },
  {
    name: 'a Supabase upload over the segment limit',
    want: { status: 400, code: 'EntityTooLarge' },
    send: (c) => fetch(c.url('/storage/v1/object/uploads/alice/big.bin'), { method: 'POST', headers: { ...bearer(c.alice), 'content-type': 'application/octet-stream' }, body: randomBytes(2 * MiB + 1) }),
  },
  {
    name: 'a JSON body over the 1 MiB body limit',
    want: tooLarge,
    send: (c) =>
      fetch(c.url('/storage/presigned-upload'), {
        method: 'POST',
        headers: { ...bearer(c.h.serviceToken), 'content-type': 'application/json' },
        body: JSON.stringify({ segment: 'uploads', filename: 'x.txt', contentType: 'text/plain', pad: 'x'.repeat(1100 * 1024) }),
      }),
  },
  {
    name: 'a malformed JSON body',
    want: { status: 400, code: 'InvalidArgument' },
    send: (c) => fetch(c.url('/storage/presigned-upload'), { method: 'POST', headers: { ...bearer(c.h.serviceToken), 'content-type': 'application/json' }, body: '{"segment": "uploads", ' }),
  },
  {
    name: 'a JSON body with unexpected fields',
    want: { status: 400, code: 'InvalidArgument' },
    send: (c) =>
      fetch(c.url('/storage/presigned-upload'), {
        method: 'POST',
        headers: { ...bearer(c.h.serviceToken), 'content-type': 'application/json' },
        body: JSON.stringify({ segment: 'uploads', filename: 'x.txt', contentType: 'text/plain', owner: 'alice' }),
      }),
  },
];

/** Upload path and headers of a fresh grant, for raw requests. */
async function rawUpload(c: Parameters<RawCase['payload']>[0], headers: string, body: string): Promise<string> {
  const g = await grantFor(c, { segment: 'uploads', filename: `raw-${randomBytes(3).toString('hex')}.txt`, contentType: 'text/plain' });
  return `POST ${new URL(g.uploadUrl).pathname} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n${headers}\r\n${body}`;
}

export const rawBodyCases: RawCase[] = [
  {
    name: 'Content-Length together with Transfer-Encoding (request smuggling)',
    want: { status: 400, code: 'InvalidArgument' },
    payload: (c) => rawUpload(c, 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'a transfer coding other than chunked (gzip, chunked): it would be stored still encoded',
    want: { status: 501, code: 'Unsupported' },
    payload: (c) => rawUpload(c, 'Transfer-Encoding: gzip, chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'an upload with neither Content-Length nor Transfer-Encoding',
    want: { status: 411, code: 'LengthRequired' },
    payload: (c) => rawUpload(c, '', 'hello'),
  },
  {
    name: 'an HTTP/1.1 request without a Host header',
    want: { status: 400, code: 'InvalidArgument' },
    payload: async () => 'GET /healthz HTTP/1.1\r\n\r\n',
  },
  {
    name: 'a Content-Length that is not a number',
    want: { status: 400, code: 'InvalidArgument' },
    payload: (c) => rawUpload(c, 'Content-Length: 12abc\r\n', 'hello'),
  },
  {
    name: 'a body cut off before its Content-Length (client stalls)',
    want: { closed: true },
    timeoutMs: 8000,
    payload: (c) => rawUpload(c, 'Content-Length: 100\r\n', 'only part of it'),
  },
  {
    name: 'headers that never finish (slowloris)',
    want: { closed: true },
    timeoutMs: 8000,
    payload: async () => 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n',
  },
  {
    name: 'a header section over the size limit',
    want: { status: 431, code: 'HeadersTooLarge' },
    payload: async () => `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  },
];
