import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SNIFF_BYTES, contentMatches, guardContent } from '../../src/service/sniff.js';

const b = (...bytes: number[]) => Buffer.from(bytes);
const s = (text: string) => Buffer.from(text, 'latin1');

describe('magic bytes', () => {
  it.each([
    ['image/png', b(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0)],
    ['image/jpeg', b(0xff, 0xd8, 0xff, 0xe0)],
    ['image/gif', s('GIF89a....')],
    ['image/webp', s('RIFF\0\0\0\0WEBPVP8 ')],
    ['video/mp4', s('\0\0\0\x18ftypmp42')],
    ['video/webm', b(0x1a, 0x45, 0xdf, 0xa3, 1)],
    ['audio/mpeg', s('ID3\x04\0')],
    ['audio/mpeg', b(0xff, 0xfb, 0x90, 0x64)],
    ['audio/wav', s('RIFF\0\0\0\0WAVEfmt ')],
    ['audio/ogg', s('OggS\0\x02')],
    ['application/pdf', s('%PDF-1.7\n')],
    ['application/json', s('  {"a": 1}')],
    ['application/json', s('\uFEFF[1,2]'.replace('\uFEFF', '\xEF\xBB\xBF'))],
    ['text/plain', Buffer.from('héllo wörld\n', 'utf8')],
    ['text/csv; charset=utf-8', s('a,b\n1,2\n')],
    ['image/svg+xml', s('<svg xmlns="http://www.w3.org/2000/svg"/>')],
  ])('accepts %s that looks like one', (type, head) => {
    expect(contentMatches(type, head, true)).toBe(true);
  });

  it.each([
    ['image/png', s('<html><script>alert(1)</script>')],
    ['image/jpeg', b(0x89, 0x50, 0x4e, 0x47)],
    ['video/mp4', s('not a video at all')],
    ['audio/wav', s('RIFF\0\0\0\0WEBPVP8 ')],
    ['application/pdf', s('PK\x03\x04')],
    ['application/json', s('<?xml version="1.0"?>')],
    ['text/plain', b(0x68, 0x00, 0x69)],
    ['text/plain', b(0xc3, 0x28)],
    ['application/x-unknown', s('<!DOCTYPE html><html>')],
  ])('refuses %s that does not', (type, head) => {
    expect(contentMatches(type, head, true)).toBe(false);
  });

  it('accepts any empty body, and a UTF-8 sequence cut at the end of the window', () => {
    expect(contentMatches('image/png', Buffer.alloc(0), true)).toBe(true);
    const text = Buffer.concat([Buffer.alloc(SNIFF_BYTES - 1, 0x61), Buffer.from('é', 'utf8')]);
    expect(contentMatches('text/plain', text.subarray(0, SNIFF_BYTES), false)).toBe(true);
  });

  it('judges a stream by its first bytes and passes everything through unchanged', async () => {
    const data = Buffer.concat([s('%PDF-1.4\n'), Buffer.alloc(100_000, 0x20)]);
    const pieces = [data.subarray(0, 3), data.subarray(3, 5000), data.subarray(5000)];
    const out: Buffer[] = [];
    for await (const chunk of guardContent({ allowedTypes: ['application/pdf'] }, 'application/pdf', Readable.from(pieces))) out.push(chunk as Buffer);
    expect(Buffer.concat(out).equals(data)).toBe(true);
    const refused = guardContent({ allowedTypes: ['application/pdf'] }, 'application/pdf', Readable.from([s('MZ'), Buffer.alloc(10_000)]));
    await expect((async () => {
      for await (const _ of refused) void _;
    })()).rejects.toMatchObject({ code: 'UnsupportedType' });
  });

  it('leaves segments without an allow-list alone', () => {
    const body = Readable.from([s('anything')]);
    expect(guardContent({ allowedTypes: null }, 'image/png', body)).toBe(body);
  });
});
