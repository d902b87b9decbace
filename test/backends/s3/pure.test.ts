import { describe, expect, it } from 'vitest';
import { createS3Backend, type S3BackendOptions } from '../../../src/backends/s3/index.js';
import { makeCursor, readCursor, startAfterFor } from '../../../src/backends/s3/list.js';
import { decodeMetadata, encodeMetadata } from '../../../src/backends/s3/metadata.js';
import { multipartEtag } from '../../../src/backends/s3/multipart.js';
import { canPutDirectly } from '../../../src/backends/s3/direct-put.js';
import { decodeCursor, encodeCursor } from '../../../src/core/cursor.js';

describe('metadata encoding', () => {
  it('keeps plain entries readable and round-trips every other one exactly', () => {
    const metadata = { owner: 'alice', Camel: 'Case', 'bg-mine': 'x', note: ' spaced ', 'ünï': 'çødé ✓', empty: '' };
    const encoded = encodeMetadata(metadata, 'a'.repeat(64));
    expect(encoded.owner).toBe('alice');
    expect(encoded.empty).toBe('');
    expect(encoded['bg-sha256']).toBe('a'.repeat(64));
    for (const value of Object.values(encoded)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    // S3 lowercases names on the way back.
    const back = decodeMetadata(Object.fromEntries(Object.entries(encoded).map(([k, v]) => [k.toLowerCase(), v])));
    expect(back).toEqual({ metadata, sha256: 'a'.repeat(64) });
  });

  it('ignores a malformed stored checksum', () => {
    expect(decodeMetadata({ 'bg-sha256': 'nope', a: 'b' })).toEqual({ metadata: { a: 'b' }, sha256: undefined });
  });
});

describe('list cursors', () => {
  it('carries the store token when there is one, and reads back a plain key cursor too', () => {
    const withToken = decodeCursor(makeCursor('uploads/a/b', 'tok/en=='));
    expect(readCursor(withToken)).toEqual({ after: 'uploads/a/b', token: 'tok/en==' });
    expect(readCursor(decodeCursor(encodeCursor('uploads/x')))).toEqual({ after: 'uploads/x', token: undefined });
    expect(readCursor(decodeCursor(makeCursor('uploads/x', undefined)))).toEqual({ after: 'uploads/x', token: undefined });
  });

  it('drops a token that would make the cursor too long', () => {
    const cursor = makeCursor(`uploads/${'k'.repeat(900)}`, 't'.repeat(1000));
    expect(cursor.length).toBeLessThanOrEqual(2048);
    expect(readCursor(decodeCursor(cursor)).token).toBeUndefined();
  });

  it('skips a whole common prefix when the cursor falls inside it', () => {
    expect(startAfterFor({ prefix: 'uploads/', delimiter: '/', after: 'uploads/a/' })).toBe('uploads/a/\u{10FFFF}');
    expect(startAfterFor({ prefix: 'uploads/', delimiter: '/', after: 'uploads/a/deep/key' })).toBe('uploads/a/\u{10FFFF}');
    expect(startAfterFor({ prefix: 'uploads/', delimiter: '/', after: 'uploads/file' })).toBe('uploads/file');
    expect(startAfterFor({ prefix: 'uploads/', delimiter: undefined, after: 'uploads/a/b' })).toBe('uploads/a/b');
  });
});

describe('multipartEtag', () => {
  it('is the MD5 of the part MD5s with the part count, as S3 computes it', () => {
    // Two parts whose MD5s are those of "a" and "b".
    const parts = [
      { PartNumber: 1, ETag: '"0cc175b9c0f1b6a831c399e269772661"' },
      { PartNumber: 2, ETag: '"92eb5ffee6ae2fec3ad71c777531578f"' },
    ];
    // md5(md5("a") ‖ md5("b")) as bytes, then the part count.
    expect(multipartEtag(parts)).toBe('"96e024ba2074fe77e8e965ba43a704be-2"');
    expect(multipartEtag([{ PartNumber: 1, ETag: '' }])).toBeUndefined();
  });
});

describe('public URLs', () => {
  const make = (extra: Partial<S3BackendOptions>) => createS3Backend({ bucket: 'media', region: 'eu-west-1', publicSegments: ['videos'], ...extra });

  it('go through CLOUDFRONT_DOMAIN for public segments, encoded per part', async () => {
    const backend = await make({ cloudfrontDomain: 'd123.cloudfront.net' });
    expect(backend.capabilities.publicUrls).toBe(true);
    expect(backend.publicUrl('videos/a b/clip #1.mp4')).toBe('https://d123.cloudfront.net/videos/a%20b/clip%20%231.mp4');
    expect(backend.publicUrl('uploads/private.txt')).toBeUndefined();
    await backend.close();
  });

  it('fall back to the bucket address: virtual-hosted on AWS, path style on an endpoint', async () => {
    const aws = await make({});
    expect(aws.publicUrl('videos/x.mp4')).toBe('https://media.s3.eu-west-1.amazonaws.com/videos/x.mp4');
    const minio = await make({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
    expect(minio.publicUrl('videos/x.mp4')).toBe('http://127.0.0.1:9000/media/videos/x.mp4');
    await aws.close();
    await minio.close();
  });

  it('no public segment: the capability is off', async () => {
    const backend = await createS3Backend({ bucket: 'media' });
    expect(backend.capabilities.publicUrls).toBe(false);
    await backend.close();
  });
});

describe('single PutObject: direct or through the SDK', () => {
  const contextOf = (backend: unknown) => (backend as { ctx: Parameters<typeof canPutDirectly>[0] }).ctx;

  it('goes direct for plain SigV4 buckets: AWS, an endpoint, an IPv6 endpoint', async () => {
    for (const opts of [
      { bucket: 'media', region: 'eu-west-1' },
      { bucket: 'media', region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
      { bucket: 'media', region: 'us-east-1', endpoint: 'http://[::1]:9000', forcePathStyle: true },
    ]) {
      const backend = await createS3Backend({ ...opts, accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
      expect(await canPutDirectly(contextOf(backend))).toBe(true);
      await backend.close();
    }
  });

  it('leaves S3 Express directory buckets (another signature) to the SDK', async () => {
    const backend = await createS3Backend({ bucket: 'media--usw2-az1--x-s3', region: 'us-west-2', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
    expect(await canPutDirectly(contextOf(backend))).toBe(false);
    await backend.close();
  });
});
