import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_ROOT, webRoutes } from '../../src/http/routes/web.js';
import type { Storage } from '../../src/service/storage.js';
import { type ServiceHandle, startService } from '../support/service.js';

describe('the dashboard route', () => {
  let service: ServiceHandle;
  beforeAll(async () => {
    service = await startService();
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('serves the page at / with a policy that allows only its own origin', async () => {
    const response = await fetch(`${service.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await response.text()).toContain('<script type="module" src="js/main.js"></script>');
  });

  it('serves the scripts and styles, revalidated rather than cached blindly', async () => {
    const script = await fetch(`${service.url}/js/main.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toBe('no-cache');
    expect(script.headers.get('etag')).toBeTruthy();
    const css = await fetch(`${service.url}/dashboard.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('leaves the API and its JSON 404s alone', async () => {
    const missing = await fetch(`${service.url}/js/nope.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NotFound' } });
    expect((await fetch(`${service.url}/.built`)).status).toBe(404);
    const list = await fetch(`${service.url}/cdn/list?segment=videos`);
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ segment: 'videos', items: [] });
  });

  it('fetches nothing from the internet: no absolute URLs in the shipped assets', async () => {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) await walk(join(dir, entry.name));
        else if (/\.(html|css|js|svg)$/.test(entry.name)) files.push(join(dir, entry.name));
      }
    };
    await walk(WEB_ROOT);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      // The SVG namespace is an identifier, never fetched.
      const text = (await readFile(file, 'utf8')).replaceAll('http://www.w3.org/2000/svg', '');
      expect(text, file).not.toMatch(/(https?:)?\/\/[a-z0-9-]+\.[a-z]/i);
    }
  });

  it('says the dashboard is not built rather than answering 404', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'bg-web-empty-'));
    const app = Fastify();
    try {
      await webRoutes(app, {} as Storage, { root: empty });
      const response = await app.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(503);
      expect(response.body).toContain('npm run build');
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
