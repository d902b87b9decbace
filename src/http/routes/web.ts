import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Storage } from '../../service/storage.js';

/**
 * The built dashboard: `<package>/dist/web`, made by `npm run build` (scripts/build-web.mjs).
 * This file sits three levels below the package root both as src/http/routes/web.ts (tests, tsx)
 * and as dist/http/routes/web.js (production), so one relative path serves both.
 */
export const WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../dist/web');

/**
 * The page may load only its own scripts and styles; media and images also come from the
 * service (or blob: URLs); it can't be framed. Nothing is fetched from elsewhere.
 */
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Serves the dashboard at `/` with its assets beside it (index.html, dashboard.css, js/…). */
export async function webRoutes(app: FastifyInstance, _storage: Storage, opts: { root?: string } = {}): Promise<void> {
  const root = opts.root ?? WEB_ROOT;
  if (!existsSync(join(root, 'index.html'))) {
    // A checkout that was never built: say so rather than answer 404.
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The dashboard is not built: run "npm run build".\n'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // One route per file found at start-up, not a catch-all: API paths and the JSON 404 stay as they are.
    wildcard: false,
    index: ['index.html'],
    decorateReply: false,
    dotfiles: 'ignore',
    globIgnore: ['**/.built'],
    // Names are not content-hashed: browsers revalidate (ETag) rather than cache stale code.
    cacheControl: false,
    setHeaders(reply, path) {
      reply.header('cache-control', 'no-cache');
      if (path.endsWith('.html')) {
        reply.header('content-security-policy', PAGE_POLICY);
        reply.header('referrer-policy', 'no-referrer');
        reply.header('x-frame-options', 'DENY');
      }
    },
  });
}
