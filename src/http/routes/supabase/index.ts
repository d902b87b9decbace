import type { FastifyInstance } from 'fastify';
import { StorageError } from '../../../core/errors.js';
import type { Storage } from '../../../service/storage.js';
import { UrlSigner } from '../../../service/supabase/signing.js';
import { TusUploads } from '../../../service/supabase/tus.js';
import { bucketRoutes } from './buckets.js';
import type { SupabaseDeps } from './deps.js';
import { sendSupabaseError } from './errors.js';
import { objectReadRoutes } from './object-read.js';
import { objectRoutes, uploadRoutes } from './objects.js';
import { publicRoutes } from './public.js';
import { renderRoutes } from './render.js';
import { resumableRoutes } from './resumable.js';
import { signedUploadRoutes, signedUrlRoutes } from './signed-urls.js';

export const SUPABASE_PREFIX = '/storage/v1';

/**
 * A Supabase Storage-compatible API under `/storage/v1`, over whatever backend the service
 * runs on, so `@supabase/storage-js` (and apps written for Supabase) can use bucketgate.
 * Same JWTs as the rest of the service: `Authorization: Bearer`, or the `apikey` header alone.
 */
export async function supabaseRoutes(app: FastifyInstance, storage: Storage): Promise<void> {
  const deps: SupabaseDeps = { storage, signer: await UrlSigner.forService(storage.config), tus: await TusUploads.open(storage.ctx) };

  await app.register(
    async (scope) => {
      scope.setErrorHandler((err, request, reply) => sendSupabaseError(request, reply, err));
      scope.setNotFoundHandler((request, reply) =>
        reply.code(404).send({ statusCode: '404', error: 'Not Found', message: `Route ${request.method}:${request.url.split('?')[0]} not found`, code: 'InvalidRequest' }),
      );
      // supabase-js sends the project key as `apikey`; with no Authorization header, it is the caller's token.
      scope.addHook('onRequest', async (request) => {
        const apikey = request.headers.apikey;
        if (request.headers.authorization !== undefined || apikey === undefined) return;
        // A bad key is answered after the rate limit has counted the request (http/security.ts).
        if (typeof apikey !== 'string' || !/^[A-Za-z0-9_\-.]+$/.test(apikey)) {
          request.authError = new StorageError('Unauthenticated', 'Invalid API key');
          return;
        }
        try {
          request.principal = await storage.jwt.verify(apikey);
        } catch (err) {
          request.authError = err;
        }
      });

      await scope.register(async (json) => {
        // storage-js sends `{}` or nothing to some POST and DELETE routes.
        const parseJson = json.getDefaultJsonParser('error', 'error');
        json.removeContentTypeParser('application/json');
        json.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
          if (body === '') return done(null, {});
          return parseJson(request, body as string, done);
        });
        await bucketRoutes(json, deps);
        await objectRoutes(json, deps);
        await objectReadRoutes(json, deps);
        await publicRoutes(json, deps);
        await signedUrlRoutes(json, deps);
        await renderRoutes(json, deps);
      });

      // Bodies that are files: no parser may buffer them; the routes stream request.raw.
      await scope.register(async (raw) => {
        raw.removeAllContentTypeParsers();
        raw.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
        await uploadRoutes(raw, deps);
        await signedUploadRoutes(raw, deps);
        await resumableRoutes(raw, deps);
      });
    },
    { prefix: SUPABASE_PREFIX },
  );
}
