import type { FastifyInstance } from 'fastify';
import type { Storage } from '../../service/storage.js';
import { sendError } from '../errors.js';
import { errors, presignedRequestSchema, storedObjectSchema } from '../schemas.js';
import { uploadBody } from '../upload-body.js';

/** The token flow: ask for an upload URL, then send the bytes to it (raw or multipart). */
export async function cdnUploadRoutes(app: FastifyInstance, storage: Storage) {
  app.get<{ Querystring: { segment: string; filename: string; contentType?: string; size?: number } }>(
    '/cdn/upload-url',
    {
      schema: {
        summary: 'Get a single-use upload URL bound to a key, content type and maximum size',
        tags: ['cdn'],
        querystring: {
          type: 'object',
          properties: {
            segment: { type: 'string', maxLength: 63 },
            filename: { type: 'string', minLength: 1, maxLength: 1024 },
            contentType: { type: 'string', maxLength: 255 },
            size: { type: 'integer', minimum: 0 },
          },
          required: ['segment', 'filename'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              token: { type: 'string' },
              uploadUrl: { type: 'string' },
              expiresAt: { type: 'string' },
              key: { type: 'string' },
              contentType: { type: 'string' },
              maxBytes: { type: 'integer' },
              directUrl: { type: 'string' },
              direct: presignedRequestSchema,
            },
            required: ['token', 'uploadUrl', 'expiresAt', 'key', 'contentType', 'maxBytes'],
          },
          ...errors(400, 401, 403, 413, 415),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const grant = await storage.createUploadGrant({ segment: q.segment, filename: q.filename, contentType: q.contentType, size: q.size, principal: request.principal, direct: true });
      return {
        token: grant.token,
        uploadUrl: grant.uploadUrl,
        expiresAt: grant.expiresAt,
        key: grant.key,
        contentType: grant.contentType,
        maxBytes: grant.maxBytes,
        ...(grant.direct ? { directUrl: grant.direct.url, direct: { ...grant.direct, expiresAt: grant.direct.expiresAt.toISOString() } } : {}),
      };
    },
  );

  // The body is the file itself: no parser may buffer it, the route streams request.raw.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    scope.route<{ Params: { token: string } }>({
      method: ['POST', 'PUT'],
      url: '/cdn/upload/:token',
      schema: {
        summary: 'Upload with a token: raw body (the file\'s own Content-Type) or multipart/form-data with one file',
        tags: ['cdn'],
        params: { type: 'object', properties: { token: { type: 'string', maxLength: 128 } }, required: ['token'] },
        response: { 201: storedObjectSchema, ...errors(400, 401, 413, 415, 503, 507) },
      },
      handler: async (request, reply) => {
        try {
          const body = await uploadBody(request.raw, { maxBytes: storage.config.maxUploadBytes });
          const stored = await storage.uploadWithToken(request.params.token, body.body, { contentType: body.contentType, contentLength: body.contentLength });
          return reply.code(201).send(stored);
        } catch (err) {
          return sendError(request, reply, err);
        }
      },
    });
  });
}
