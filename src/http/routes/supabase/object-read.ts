import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StorageError } from '../../../core/errors.js';
import { statObject } from '../../../service/supabase/objects.js';
import { type ObjectParams, type SupabaseDeps, TAGS, objectParamsSchema } from './deps.js';
import { infoBody, serveBody, serveHead } from './serve.js';

type Read = { Params: ObjectParams; Querystring: { download?: string } };

const downloadQuery = { type: 'object', properties: { download: { type: 'string' } } } as const;

/** `/authenticated/` routes need a token (an anon one will do; the Policy decides the rest). */
function requireToken(request: FastifyRequest): void {
  if (request.headers.authorization === undefined && request.headers.apikey === undefined) {
    throw new StorageError('Unauthenticated', 'Authorization header or apikey is required');
  }
}

/** Downloads, HEAD (exists) and info of objects the caller may read: their own, or any in a public bucket. */
export async function objectReadRoutes(app: FastifyInstance, { storage }: SupabaseDeps) {
  const ctx = storage.ctx;

  const download = (authenticated: boolean) => async (request: FastifyRequest<Read>, reply: FastifyReply) => {
    if (authenticated) requireToken(request);
    const { parsed } = await statObject(ctx, request.principal, request.params.bucketName, request.params['*']);
    return serveBody(ctx, request, reply, parsed.key, { download: request.query.download });
  };
  const head = (authenticated: boolean) => async (request: FastifyRequest<Read>, reply: FastifyReply) => {
    if (authenticated) requireToken(request);
    const { info } = await statObject(ctx, request.principal, request.params.bucketName, request.params['*']);
    return serveHead(reply, info);
  };
  const info = (authenticated: boolean) => async (request: FastifyRequest<Read>, reply: FastifyReply) => {
    if (authenticated) requireToken(request);
    const { bucketName, '*': name } = request.params;
    const found = await statObject(ctx, request.principal, bucketName, name);
    return reply.header('etag', found.info.etag).send(infoBody(bucketName, name, found.info, found.row));
  };

  for (const [prefix, authenticated] of [['/object/authenticated', true], ['/object', false]] as const) {
    const schema = { tags: TAGS, params: objectParamsSchema, querystring: downloadQuery };
    app.get<Read>(`${prefix}/:bucketName/*`, { exposeHeadRoute: false, schema: { ...schema, summary: 'Supabase: download an object (Range supported)' } }, download(authenticated));
    app.head<Read>(`${prefix}/:bucketName/*`, { schema: { ...schema, summary: 'Supabase: object headers (exists)' } }, head(authenticated));
  }
  for (const [prefix, authenticated] of [['/object/info/authenticated', true], ['/object/info', false]] as const) {
    app.get<Read>(`${prefix}/:bucketName/*`, { exposeHeadRoute: false, schema: { tags: TAGS, params: objectParamsSchema, summary: 'Supabase: object info' } }, info(authenticated));
  }
}
