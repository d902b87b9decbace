import { randomBytes } from 'node:crypto';
import { grantFor } from '../context.js';
import type { Case } from './types.js';

const invalid = { status: 400, code: 'InvalidArgument' };

/** A hand-written multipart body (fetch's FormData cannot be made malformed). */
function form(parts: string[], boundary = 'XyZ', end = true): string {
  return parts.map((p) => `--${boundary}\r\n${p}`).join('\r\n') + (end ? `\r\n--${boundary}--\r\n` : '');
}
const filePart = (name: string, type: string, content: string) => `Content-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n${content}`;
const fieldPart = (name: string, value: string) => `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`;

async function postForm(c: Parameters<Case['send']>[0], body: string, contentType = 'multipart/form-data; boundary=XyZ', grant: Record<string, string | number> = {}) {
  const g = await grantFor(c, { segment: 'scripts', filename: `form-${randomBytes(3).toString('hex')}.txt`, contentType: 'text/plain', ...grant });
  return fetch(g.uploadUrl, { method: 'POST', body, headers: { 'content-type': contentType } });
}

export const multipartCases: Case[] = [
  { name: 'a form with two files', want: invalid, send: (c) => postForm(c, form([filePart('a.txt', 'text/plain', 'one'), filePart('b.txt', 'text/plain', 'two')])) },
  { name: 'a form with no file', want: invalid, send: (c) => postForm(c, form([fieldPart('note', 'no file here')])) },
  { name: 'a form cut off inside the file', want: invalid, send: (c) => postForm(c, form([filePart('cut.txt', 'text/plain', 'half of the fi')], 'XyZ', false)) },
  { name: 'a multipart type without a boundary', want: invalid, send: (c) => postForm(c, form([filePart('a.txt', 'text/plain', 'x')]), 'multipart/form-data') },
  { name: 'a boundary that never occurs in the body', want: invalid, send: (c) => postForm(c, form([filePart('a.txt', 'text/plain', 'x')], 'XyZ'), 'multipart/form-data; boundary=Other') },
  {
    name: 'a form whose file is over the grant',
    want: { status: 413, code: 'TooLarge' },
    send: (c) => postForm(c, form([filePart('big.txt', 'text/plain', 'x'.repeat(2000))]), undefined, { size: 1000 }),
  },
  {
    name: 'a form whose file claims another type than the grant',
    want: { status: 415, code: 'UnsupportedType' },
    send: (c) => postForm(c, form([filePart('page.html', 'text/html', '<script>alert(1)</script>')])),
  },
  {
    name: 'a Supabase form with two files',
    want: { status: 400, code: 'InvalidRequest' },
    send: (c) =>
      fetch(c.url('/storage/v1/object/uploads/alice/two.txt'), {
        method: 'POST',
        headers: { authorization: `Bearer ${c.alice}`, 'content-type': 'multipart/form-data; boundary=XyZ' },
        body: form([filePart('a.txt', 'text/plain', 'one'), filePart('b.txt', 'text/plain', 'two')]),
      }),
  },
];

/** The second file arrives well after the first has been streamed whole: nothing may be committed meanwhile. */
export const lateSecondFileCase: Case = {
  name: 'a Supabase form whose second file arrives late',
  want: { status: 400, code: 'InvalidRequest' },
  send: (c) => {
    const whole = form([filePart('a.txt', 'text/plain', 'first file, complete'), filePart('b.txt', 'text/plain', 'two')]);
    const cut = whole.indexOf('--XyZ', 10) + '--XyZ\r\n'.length;
    const body = new ReadableStream({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode(whole.slice(0, cut)));
        await new Promise((resolve) => setTimeout(resolve, 400));
        controller.enqueue(new TextEncoder().encode(whole.slice(cut)));
        controller.close();
      },
    });
    return fetch(c.url('/storage/v1/object/uploads/alice/late-second.txt'), {
      method: 'POST',
      headers: { authorization: `Bearer ${c.alice}`, 'content-type': 'multipart/form-data; boundary=XyZ' },
      body,
      duplex: 'half',
    } as RequestInit);
  },
};
multipartCases.push(lateSecondFileCase);
