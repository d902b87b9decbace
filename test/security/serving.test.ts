import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, json, upload } from '../support/http.js';
import { type ServiceHandle, startService } from '../support/service.js';

const SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>';
const HTML = '<!doctype html><script>alert(document.domain)</script>';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

/** Uploaded active content must never run on the service's origin, by any route that serves it. */
describe('serving uploaded content', () => {
  let h: ServiceHandle;
  let svg: { id: string };
  let html: { id: string };
  let png: { id: string };
  beforeAll(async () => {
    h = await startService();
    svg = await upload(h, 'videos', 'art/logo.svg', SVG, 'image/svg+xml');
    html = await upload(h, 'uploads', 'pages/page.html', HTML, 'text/html');
    png = await upload(h, 'videos', 'art/pic.png', PNG, 'image/png');
  });
  afterAll(async () => h?.stop());

  const expectSandboxed = async (res: Response, what: string) => {
    expect(res.status, what).toBe(200);
    expect(res.headers.get('content-disposition'), what).toMatch(/^attachment/);
    expect(res.headers.get('content-security-policy'), what).toContain('sandbox');
    expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
    await res.arrayBuffer();
  };

  it('sends SVG and HTML as sandboxed attachments on every route', async () => {
    const sign = async (id: string, mode: string) => (await json(await fetch(`${h.url}/cdn/sign`, { method: 'POST', headers: { ...auth(h.serviceToken), 'content-type': 'application/json' }, body: JSON.stringify({ id, mode }) }))).url as string;
    const routes: [string, () => Promise<Response>][] = [
      ['cdn stream (svg)', () => fetch(`${h.url}/cdn/stream/${svg.id}`)],
      ['cdn download (svg)', () => fetch(`${h.url}/cdn/download/${svg.id}`)],
      ['cdn stream (html)', () => fetch(`${h.url}/cdn/stream/${html.id}`, { headers: auth(h.serviceToken) })],
      ['signed stream link (html)', async () => fetch(await sign(html.id, 'stream'))],
      ['supabase public (svg)', () => fetch(`${h.url}/storage/v1/object/public/videos/art/logo.svg`)],
      ['supabase authenticated (html)', () => fetch(`${h.url}/storage/v1/object/authenticated/uploads/pages/page.html`, { headers: auth(h.serviceToken) })],
      ['supabase object (html)', () => fetch(`${h.url}/storage/v1/object/uploads/pages/page.html`, { headers: auth(h.serviceToken) })],
      [
        'supabase signed URL (html)',
        async () => {
          const signed = await json(await fetch(`${h.url}/storage/v1/object/sign/uploads/pages/page.html`, { method: 'POST', headers: { ...auth(h.serviceToken), 'content-type': 'application/json' }, body: '{"expiresIn":60}' }));
          return fetch(`${h.url}/storage/v1${signed.signedURL}`);
        },
      ],
    ];
    for (const [what, send] of routes) await expectSandboxed(await send(), what);
  });

  it('streams passive media inline, with nosniff', async () => {
    const res = await fetch(`${h.url}/cdn/stream/${png.id}`);
    expect(res.headers.get('content-disposition')).toMatch(/^inline/);
    expect(res.headers.get('content-security-policy')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    await res.arrayBuffer();
  });

  it('puts nosniff on errors and unknown routes too', async () => {
    for (const res of [await fetch(`${h.url}/no/such/route`), await fetch(`${h.url}/cdn/download/${'x'.repeat(22)}`), await fetch(`${h.url}/bucket/stats`, { headers: { authorization: 'Bearer bad' } })]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      await res.arrayBuffer();
    }
  });
});
