import type { FastifyInstance } from 'fastify';
import { StorageError } from '../../../core/errors.js';
import { type SupabaseDeps, TAGS } from './deps.js';

/**
 * `/render/image/…`: Supabase's image transformations. bucketgate stores bytes and does not
 * transform them, so these answer with a clear refusal rather than an untransformed image a
 * client would take for a resized one. Use the `/object/…` URL for the original.
 */
export async function renderRoutes(app: FastifyInstance, _deps: SupabaseDeps) {
  for (const kind of ['public', 'authenticated', 'sign']) {
    app.get(`/render/image/${kind}/*`, { exposeHeadRoute: false, schema: { summary: `Supabase: image transformation (${kind}) — not available`, tags: TAGS } }, async () => {
      throw new StorageError('Unsupported', 'image transformation is not available on bucketgate; download the original from /object/…');
    });
  }
}
