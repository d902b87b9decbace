import type { FastifyInstance } from 'fastify';
import type { Storage } from '../../service/storage.js';
import { errors, presignedRequestSchema, storedObjectSchema } from '../schemas.js';

/** Backend status and presigned (direct-to-backend) uploads. */
export async function storageRoutes(app: FastifyInstance, storage: Storage) {
  app.get(
    '/storage/status',
    {
      schema: {
        summary: 'Backend kind, a real health round trip with latency, breaker and fallback state, version; the redacted configuration for the service role only',
        tags: ['storage'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (request) => {
      const status = await storage.status();
      if (request.principal.role === 'service_role') return status;
      // Paths and settings are for operators; everyone may see whether the service is healthy.
      const { config: _config, fallback, ...rest } = status as typeof status & { fallback?: Record<string, unknown> };
      const { path: _path, ...fallbackState } = (fallback ?? {}) as Record<string, unknown>;
      return { ...rest, fallback: fallbackState };
    },
  );

  app.post<{ Body: { segment: string; filename: string; contentType: string; size?: number } }>(
    '/storage/presigned-upload',
    {
      schema: {
        summary: 'A presigned upload the client sends straight to the backend (or the service\'s signed URL), plus its completion call',
        tags: ['storage'],
        body: {
          type: 'object',
          properties: {
            segment: { type: 'string', maxLength: 63 },
            filename: { type: 'string', minLength: 1, maxLength: 1024 },
            contentType: { type: 'string', minLength: 1, maxLength: 255 },
            size: { type: 'integer', minimum: 0 },
          },
          required: ['segment', 'filename', 'contentType'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              key: { type: 'string' },
              token: { type: 'string' },
              expiresAt: { type: 'string' },
              maxBytes: { type: 'integer' },
              upload: presignedRequestSchema,
              complete: {
                type: ['object', 'null'],
                properties: { method: { type: 'string' }, url: { type: 'string' }, body: { type: 'object', additionalProperties: true } },
              },
            },
            required: ['key', 'token', 'expiresAt', 'maxBytes', 'upload', 'complete'],
          },
          ...errors(400, 401, 403, 413, 415),
        },
      },
    },
    async (request) => {
      const b = request.body;
      const grant = await storage.createUploadGrant({ segment: b.segment, filename: b.filename, contentType: b.contentType, size: b.size, principal: request.principal, direct: true });
      const iso = (r: { expiresAt: Date }) => ({ ...r, expiresAt: r.expiresAt.toISOString() });
      return {
        key: grant.key,
        token: grant.token,
        expiresAt: grant.expiresAt,
        maxBytes: grant.maxBytes,
        upload: grant.direct ? iso(grant.direct) : { method: 'PUT', url: grant.uploadUrl, headers: { 'content-type': grant.contentType }, expiresAt: grant.expiresAt },
        // Uploads through the service record themselves; direct ones are recorded by this call.
        complete: grant.direct
          ? { method: 'POST', url: `${storage.config.publicUrl}/storage/presigned-upload/complete`, body: { token: grant.token, ...(b.size !== undefined ? { size: b.size } : {}) } }
          : null,
      };
    },
  );

  app.post<{ Body: { token: string; size?: number } }>(
    '/storage/presigned-upload/complete',
    {
      schema: {
        summary: 'Record a direct upload in the catalog after checking it exists within its limits',
        tags: ['storage'],
        body: {
          type: 'object',
          properties: { token: { type: 'string', maxLength: 128 }, size: { type: 'integer', minimum: 0 } },
          required: ['token'],
          additionalProperties: false,
        },
        response: { 201: storedObjectSchema, ...errors(400, 401, 412, 413) },
      },
    },
    async (request, reply) => reply.code(201).send(await storage.completeDirectUpload(request.body.token, { size: request.body.size })),
  );
}
