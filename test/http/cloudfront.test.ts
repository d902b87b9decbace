import { afterAll, beforeAll, expect, it } from 'vitest';
import { upload } from '../support/http.js';
import { type ServiceHandle, startService } from '../support/service.js';

let h: ServiceHandle;
beforeAll(async () => {
  h = await startService({ env: { CLOUDFRONT_DOMAIN: 'd123456789.cloudfront.net' } });
});
afterAll(async () => h?.stop());

it('redirects downloads of public segments to the CDN, and serves private ones itself', async () => {
  const pub = await upload(h, 'videos', 'intro clip.mp4', Buffer.from('\0\0\0\x14ftypisom frames', 'latin1'), 'video/mp4');
  const res = await fetch(`${h.url}/cdn/download/${pub.id}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('https://d123456789.cloudfront.net/videos/intro%20clip.mp4');
  const priv = await upload(h, 'uploads', 'private.bin', 'bytes');
  const own = await fetch(`${h.url}/cdn/download/${priv.id}`, { redirect: 'manual', headers: { authorization: `Bearer ${h.serviceToken}` } });
  expect(own.status).toBe(200);
});
