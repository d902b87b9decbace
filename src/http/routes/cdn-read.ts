import type { FastifyInstance } from 'fastify';
import type { Storage } from '../../service/storage.js';
import { errors, idParamsSchema, listQuerySchema, listResponseSchema, signedLinkQuerySchema } from '../schemas.js';
import { type SignedLinkQuery, serveObject } from '../serve-object.js';

/** The object's bytes, under the object's own content type. */
const binary = { description: 'The object\'s bytes', content: { '*/*': { schema: { type: 'string', format: 'binary' } } } } as const;

/** Reading, listing and deleting objects by their catalog id. */
export async function cdnReadRoutes(app: FastifyInstance, storage: Storage) {
  app.get<{ Params: { id: string }; Querystring: SignedLinkQuery }>(
    '/cdn/download/:id',
    {
      schema: {
        summary: 'Download an object as an attachment (302 to the CDN for public segments when CLOUDFRONT_DOMAIN is set)',
        tags: ['cdn'],
        params: idParamsSchema,
        querystring: signedLinkQuerySchema,
        response: { 200: binary, 206: binary, 302: { type: 'null' }, 304: { type: 'null' }, ...errors(401, 404, 416, 503) },
      },
    },
    (request, reply) => serveObject(storage, request, reply, 'download'),
  );

  app.get<{ Params: { id: string }; Querystring: SignedLinkQuery }>(
    '/cdn/stream/:id',
    {
      schema: {
        summary: 'Stream an object inline with HTTP Range support (for video and audio players)',
        tags: ['cdn'],
        params: idParamsSchema,
        querystring: signedLinkQuerySchema,
        response: { 200: binary, 206: binary, 304: { type: 'null' }, ...errors(401, 404, 416, 503) },
      },
    },
    (request, reply) => serveObject(storage, request, reply, 'stream'),
  );

  app.get<{ Querystring: { segment: string; prefix?: string; cursor?: string; limit?: number } }>(
    '/cdn/list',
    {
      schema: {
        summary: 'List a segment, sorted by key, paginated by cursor',
        tags: ['cdn'],
        querystring: { ...listQuerySchema, properties: { ...listQuerySchema.properties, segment: { type: 'string', maxLength: 63 } }, required: ['segment'] },
        response: { 200: listResponseSchema, ...errors(400, 401, 403) },
      },
    },
    async (request) => {
      const { segment, prefix, cursor, limit } = request.query;
      const page = await storage.listFiles(segment, { prefix, cursor, maxKeys: limit, principal: request.principal });
      return { segment, ...page };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/cdn/files/:id',
    {
      schema: {
        summary: 'Delete an object by id',
        tags: ['cdn'],
        params: idParamsSchema,
        response: { 204: { type: 'null' }, ...errors(401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      await storage.deleteById(request.params.id, request.principal);
      return reply.code(204).send();
    },
  );
}
