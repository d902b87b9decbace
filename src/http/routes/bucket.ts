import type { FastifyInstance } from 'fastify';
import type { Storage } from '../../service/storage.js';
import { errors, listQuerySchema, listResponseSchema } from '../schemas.js';

const countSchema = { type: 'object', properties: { count: { type: 'integer' }, bytes: { type: 'integer' } }, required: ['count', 'bytes'] } as const;

/** The guide's universal endpoints: statistics from the catalog, and listing a segment. */
export async function bucketRoutes(app: FastifyInstance, storage: Storage) {
  app.get(
    '/bucket/stats',
    {
      schema: {
        summary: 'Object count and bytes per segment and in total (from the catalog; only what the caller may read)',
        tags: ['bucket'],
        response: {
          200: {
            type: 'object',
            properties: { segments: { type: 'object', additionalProperties: countSchema }, total: countSchema, source: { type: 'string' } },
            required: ['segments', 'total'],
          },
          ...errors(401),
        },
      },
    },
    async (request) => ({ ...(await storage.stats(request.principal)), source: 'catalog' }),
  );

  app.get<{ Params: { segment: string }; Querystring: { prefix?: string; cursor?: string; limit?: number } }>(
    '/bucket/list/:segment',
    {
      schema: {
        summary: 'List files in a segment',
        tags: ['bucket'],
        params: { type: 'object', properties: { segment: { type: 'string', maxLength: 63 } }, required: ['segment'] },
        querystring: listQuerySchema,
        response: { 200: listResponseSchema, ...errors(400, 401, 403) },
      },
    },
    async (request) => {
      const { prefix, cursor, limit } = request.query;
      const page = await storage.listFiles(request.params.segment, { prefix, cursor, maxKeys: limit, principal: request.principal });
      return { segment: request.params.segment, ...page };
    },
  );
}
