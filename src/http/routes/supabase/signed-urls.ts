import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StorageError, isStorageError } from '../../../core/errors.js';
import { headObject, locate, statObject, writeObject } from '../../../service/supabase/objects.js';
import { type ObjectParams, type SupabaseDeps, TAGS, bucketParamsSchema, objectParamsSchema } from './deps.js';
import { sendSupabaseError } from './errors.js';
import { serveBody } from './serve.js';
import { supabaseUploadBody } from './upload-body.js';

/** Supabase's default lifetime of a signed upload URL. */
const UPLOAD_URL_SECONDS = 2 * 3600;

const tokenQuery = { type: 'object', properties: { token: { type: 'string', maxLength: 4096 }, download: { type: 'string' } } } as const;
type Signed = { Params: ObjectParams; Querystring: { token?: string; download?: string } };

function noTransforms(transform: unknown): void {
  if (transform && typeof transform === 'object' && Object.keys(transform).length > 0) {
    throw new StorageError('Unsupported', 'image transformation is not available on bucketgate; ask for the object without transform');
  }
}

/** Signing download and upload URLs, and downloading through a signed URL. */
export async function signedUrlRoutes(app: FastifyInstance, { storage, signer }: SupabaseDeps) {
  const ctx = storage.ctx;

  app.post<{ Params: ObjectParams; Body: { expiresIn: number; transform?: object } }>(
    '/object/sign/:bucketName/*',
    {
      schema: {
        summary: 'Supabase: sign a download URL (a JWT naming the object, signed by the service)',
        tags: TAGS,
        params: objectParamsSchema,
        body: { type: 'object', properties: { expiresIn: { type: 'integer', minimum: 1 }, transform: { type: 'object' } }, required: ['expiresIn'] },
      },
    },
    async (request) => {
      noTransforms(request.body.transform);
      const { bucketName, '*': name } = request.params;
      await statObject(ctx, request.principal, bucketName, name);
      const url = `${bucketName}/${name}`;
      const token = await signer.sign(url, 'download', request.body.expiresIn);
      return { signedURL: `/object/sign/${url}?token=${token}` };
    },
  );

  app.post<{ Params: { bucketName: string }; Body: { expiresIn: number; paths: string[] } }>(
    '/object/sign/:bucketName',
    {
      schema: {
        summary: 'Supabase: sign download URLs for several objects',
        tags: TAGS,
        params: bucketParamsSchema,
        body: {
          type: 'object',
          properties: { expiresIn: { type: 'integer', minimum: 1 }, paths: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1000 } },
          required: ['expiresIn', 'paths'],
        },
      },
    },
    async (request) => {
      const { bucketName } = request.params;
      return Promise.all(
        request.body.paths.map(async (path) => {
          try {
            await statObject(ctx, request.principal, bucketName, path);
          } catch (err) {
            if (!isStorageError(err) || !['NotFound', 'InvalidKey'].includes(err.code)) throw err;
            return { error: 'Either the object does not exist or you do not have access to it', path, signedURL: null };
          }
          const token = await signer.sign(`${bucketName}/${path}`, 'download', request.body.expiresIn);
          return { error: null, path, signedURL: `/object/sign/${bucketName}/${path}?token=${token}` };
        }),
      );
    },
  );

  app.get<Signed>(
    '/object/sign/:bucketName/*',
    { exposeHeadRoute: false, schema: { summary: 'Supabase: download through a signed URL', tags: TAGS, params: objectParamsSchema, querystring: tokenQuery } },
    async (request, reply) => {
      const { bucketName, '*': name } = request.params;
      const claims = await signer.verify(request.query.token, `${bucketName}/${name}`, 'download');
      const { parsed } = locate(ctx, bucketName, name);
      return serveBody(ctx, request, reply, parsed.key, { download: request.query.download, expires: new Date(claims.exp * 1000) });
    },
  );

  app.post<{ Params: ObjectParams }>(
    '/object/upload/sign/:bucketName/*',
    { schema: { summary: 'Supabase: sign an upload URL (x-upsert: true to allow overwriting)', tags: TAGS, params: objectParamsSchema } },
    async (request) => {
      const { bucketName, '*': name } = request.params;
      const { parsed } = locate(ctx, bucketName, name);
      ctx.policy.assert(request.principal, 'write', parsed);
      const upsert = request.headers['x-upsert'] === 'true';
      if (!upsert && (await exists(ctx, parsed.key))) throw new StorageError('AlreadyExists', 'The resource already exists');
      const url = `${bucketName}/${name}`;
      const token = await signer.sign(url, 'upload', UPLOAD_URL_SECONDS, { owner: request.principal.sub, upsert });
      return { url: `/object/upload/sign/${url}?token=${token}`, token };
    },
  );
}

async function exists(ctx: SupabaseDeps['storage']['ctx'], key: string): Promise<boolean> {
  try {
    await headObject(ctx, key);
    return true;
  } catch (err) {
    if (isStorageError(err, 'NotFound')) return false;
    throw err;
  }
}

/** `uploadToSignedUrl`: the token authorises the write; its owner and upsert flag come from the token. */
export async function signedUploadRoutes(app: FastifyInstance, { storage, signer }: SupabaseDeps) {
  const ctx = storage.ctx;
  app.put<Signed>(
    '/object/upload/sign/:bucketName/*',
    { schema: { summary: 'Supabase: upload through a signed upload URL', tags: TAGS, params: objectParamsSchema, querystring: tokenQuery } },
    async (request: FastifyRequest<Signed>, reply: FastifyReply) => {
      const { bucketName, '*': name } = request.params;
      try {
        const claims = await signer.verify(request.query.token, `${bucketName}/${name}`, 'upload');
        const limit = ctx.config.segments.find((s) => s.name === bucketName)?.maxBytes ?? ctx.config.maxUploadBytes;
        const body = await supabaseUploadBody(request.raw, { maxBytes: limit });
        await writeObject(ctx, {
          bucket: bucketName,
          name,
          body: body.body,
          contentType: body.contentType,
          cacheControl: body.cacheControl,
          userMetadata: body.metadata,
          upsert: claims.upsert === true,
          owner: claims.owner ?? null,
          contentLength: body.contentLength,
        });
        return reply.code(200).send({ Key: `${bucketName}/${name}` });
      } catch (err) {
        return sendSupabaseError(request, reply, err);
      }
    },
  );
}
