import type { FastifyInstance } from 'fastify';
import { bucketNotFound } from '../../../service/supabase/errors.js';
import { headObject, indexed, locate } from '../../../service/supabase/objects.js';
import { type ObjectParams, type SupabaseDeps, TAGS, objectParamsSchema } from './deps.js';
import { infoBody, serveBody, serveHead } from './serve.js';

type Read = { Params: ObjectParams; Querystring: { download?: string } };

/** `getPublicUrl` targets: objects of public buckets, for anyone, no token needed. */
export async function publicRoutes(app: FastifyInstance, { storage }: SupabaseDeps) {
  const ctx = storage.ctx;
  const publicObject = (bucket: string, name: string) => {
    const found = locate(ctx, bucket, name);
    if (!found.segment.public) throw bucketNotFound();
    return found.parsed;
  };
  const schema = { tags: TAGS, params: objectParamsSchema, querystring: { type: 'object', properties: { download: { type: 'string' } } } };

  app.get<Read>(
    '/object/public/:bucketName/*',
    { exposeHeadRoute: false, schema: { ...schema, summary: 'Supabase: download from a public bucket' } },
    async (request, reply) => {
      const parsed = publicObject(request.params.bucketName, request.params['*']);
      return serveBody(ctx, request, reply, parsed.key, { download: request.query.download });
    },
  );

  app.head<Read>('/object/public/:bucketName/*', { schema: { ...schema, summary: 'Supabase: headers of a public object' } }, async (request, reply) => {
    const parsed = publicObject(request.params.bucketName, request.params['*']);
    return serveHead(reply, await headObject(ctx, parsed.key));
  });

  app.get<Read>(
    '/object/info/public/:bucketName/*',
    { exposeHeadRoute: false, schema: { ...schema, summary: 'Supabase: info of a public object' } },
    async (request, reply) => {
      const { bucketName, '*': name } = request.params;
      const info = await headObject(ctx, publicObject(bucketName, name).key);
      return reply.header('etag', info.etag).send(infoBody(bucketName, name, info, await indexed(ctx, info)));
    },
  );
}
