import type { FastifyInstance } from 'fastify';
import { MAX_SIGNED_TTL_SECONDS } from '../../auth/signing.js';
import { DEFAULT_SIGNED_TTL_SECONDS, signDownload } from '../../service/signed-links.js';
import type { Storage } from '../../service/storage.js';
import { errors } from '../schemas.js';

/** Signed download links: made for someone who may read the object, usable by whoever holds them until they expire. */
export async function cdnSignRoutes(app: FastifyInstance, storage: Storage) {
  app.post<{ Body: { id: string; expiresIn?: number; mode?: 'download' | 'stream' } }>(
    '/cdn/sign',
    {
      schema: {
        summary: 'A signed link to download or stream one object without a token (HMAC-SHA256 over method, key and expiry)',
        tags: ['cdn'],
        body: {
          type: 'object',
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 64 },
            expiresIn: { type: 'integer', minimum: 1, maximum: MAX_SIGNED_TTL_SECONDS, default: DEFAULT_SIGNED_TTL_SECONDS },
            mode: { type: 'string', enum: ['download', 'stream'], default: 'download' },
          },
          required: ['id'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              method: { type: 'string', enum: ['GET'] },
              url: { type: 'string' },
              headers: { type: 'object', additionalProperties: { type: 'string' } },
              expiresAt: { type: 'string', format: 'date-time' },
            },
            required: ['method', 'url', 'headers', 'expiresAt'],
          },
          ...errors(400, 401, 404),
        },
      },
    },
    async (request) => {
      const link = await signDownload(storage.ctx, request.body.id, request.principal, { expiresIn: request.body.expiresIn, mode: request.body.mode });
      return { ...link, expiresAt: link.expiresAt.toISOString() };
    },
  );
}
