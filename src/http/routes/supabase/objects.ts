import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ListV1Options, type ListV2Options, listV1, listV2 } from '../../../service/supabase/listing.js';
import { parseMetadataHeader } from '../../../service/supabase/metadata.js';
import { copyObject, deleteObject, moveObject, removeObjects, toSupabaseObject, writeObject } from '../../../service/supabase/objects.js';
import { type ObjectParams, type SupabaseDeps, TAGS, bucketParamsSchema, objectParamsSchema } from './deps.js';
import { sendSupabaseError } from './errors.js';
import { supabaseUploadBody } from './upload-body.js';

const sortBySchema = { type: 'object', properties: { column: { type: 'string' }, order: { type: 'string' } } } as const;

const transferBody = {
  type: 'object',
  properties: {
    bucketId: { type: 'string' },
    sourceKey: { type: 'string' },
    destinationBucket: { type: 'string' },
    destinationKey: { type: 'string' },
    metadata: { type: 'object', properties: { cacheControl: { type: 'string' }, mimetype: { type: 'string' } } },
    copyMetadata: { type: 'boolean' },
  },
  required: ['bucketId', 'sourceKey', 'destinationKey'],
} as const;

type TransferBody = {
  bucketId: string;
  sourceKey: string;
  destinationBucket?: string;
  destinationKey: string;
  metadata?: { cacheControl?: string; mimetype?: string };
  copyMetadata?: boolean;
};

/** Deleting, moving, copying and listing objects (JSON bodies). */
export async function objectRoutes(app: FastifyInstance, { storage }: SupabaseDeps) {
  const ctx = storage.ctx;

  app.delete<{ Params: ObjectParams }>(
    '/object/:bucketName/*',
    { schema: { summary: 'Supabase: delete an object', tags: TAGS, params: objectParamsSchema } },
    async (request) => {
      await deleteObject(ctx, request.principal, request.params.bucketName, request.params['*']);
      return { message: 'Successfully deleted' };
    },
  );

  app.delete<{ Params: { bucketName: string }; Body: { prefixes: string[] } }>(
    '/object/:bucketName',
    {
      schema: {
        summary: 'Supabase: delete several objects; answers the rows it deleted',
        tags: TAGS,
        params: bucketParamsSchema,
        body: { type: 'object', properties: { prefixes: { type: 'array', items: { type: 'string' }, minItems: 1 } }, required: ['prefixes'] },
      },
    },
    async (request) => removeObjects(ctx, request.principal, request.params.bucketName, request.body.prefixes),
  );

  app.post<{ Body: TransferBody }>(
    '/object/move',
    { schema: { summary: 'Supabase: move an object (the target must not exist)', tags: TAGS, body: transferBody } },
    async (request) => {
      const b = request.body;
      const { row } = await moveObject(ctx, request.principal, { bucket: b.bucketId, from: b.sourceKey, toBucket: b.destinationBucket, to: b.destinationKey });
      return { message: 'Successfully moved', Id: row.id, Key: b.destinationKey };
    },
  );

  app.post<{ Body: TransferBody }>(
    '/object/copy',
    { schema: { summary: 'Supabase: copy an object (x-upsert to overwrite; copyMetadata: false with x-metadata to replace metadata)', tags: TAGS, body: transferBody } },
    async (request) => {
      const b = request.body;
      const replace =
        b.copyMetadata === false
          ? { userMetadata: parseMetadataHeader(request.headers['x-metadata']), contentType: b.metadata?.mimetype, cacheControl: b.metadata?.cacheControl }
          : undefined;
      const toBucket = b.destinationBucket || b.bucketId;
      const { info, row, name } = await copyObject(ctx, request.principal, {
        bucket: b.bucketId,
        from: b.sourceKey,
        toBucket,
        to: b.destinationKey,
        upsert: request.headers['x-upsert'] === 'true',
        replace,
      });
      return { Id: row.id, Key: `${toBucket}/${name}`, ...toSupabaseObject(name, info, row) };
    },
  );

  app.post<{ Params: { bucketName: string }; Body: ListV1Options }>(
    '/object/list/:bucketName',
    {
      schema: {
        summary: 'Supabase: list one folder level (offset paging, search, sortBy)',
        tags: TAGS,
        params: bucketParamsSchema,
        body: {
          type: 'object',
          properties: { prefix: { type: 'string' }, limit: { type: 'integer', minimum: 1 }, offset: { type: 'integer', minimum: 0 }, sortBy: sortBySchema, search: { type: 'string' } },
          required: ['prefix'],
        },
      },
    },
    async (request) => listV1(ctx, request.principal, request.params.bucketName, request.body),
  );

  app.post<{ Params: { bucketName: string }; Body: ListV2Options }>(
    '/object/list-v2/:bucketName',
    {
      schema: {
        summary: 'Supabase: list by prefix with cursor paging, optionally grouped by "/"',
        tags: TAGS,
        params: bucketParamsSchema,
        body: {
          type: 'object',
          properties: { prefix: { type: 'string' }, limit: { type: 'integer', minimum: 1 }, cursor: { type: 'string' }, with_delimiter: { type: 'boolean' }, sortBy: sortBySchema },
        },
      },
    },
    async (request) => listV2(ctx, request.principal, request.params.bucketName, request.body ?? {}),
  );
}

/** Uploads (raw or multipart bodies, streamed): POST creates (x-upsert: true overwrites), PUT creates or replaces. */
export async function uploadRoutes(app: FastifyInstance, { storage }: SupabaseDeps) {
  const ctx = storage.ctx;

  const upload = (upsertOf: (request: FastifyRequest) => boolean) => async (request: FastifyRequest<{ Params: ObjectParams }>, reply: FastifyReply) => {
    const { bucketName, '*': name } = request.params;
    try {
      const limit = ctx.config.segments.find((s) => s.name === bucketName)?.maxBytes ?? ctx.config.maxUploadBytes;
      const body = await supabaseUploadBody(request.raw, { maxBytes: limit });
      const { row } = await writeObject(ctx, {
        bucket: bucketName,
        name,
        body: body.body,
        contentType: body.contentType,
        cacheControl: body.cacheControl,
        userMetadata: body.metadata,
        upsert: upsertOf(request),
        principal: request.principal,
        owner: request.principal.sub ?? null,
        contentLength: body.contentLength,
      });
      return reply.code(200).send({ Id: row.id, Key: `${bucketName}/${name}` });
    } catch (err) {
      return sendSupabaseError(request, reply, err);
    }
  };

  app.post<{ Params: ObjectParams }>(
    '/object/:bucketName/*',
    { schema: { summary: 'Supabase: upload an object (x-upsert: true to overwrite)', tags: TAGS, params: objectParamsSchema } },
    upload((request) => request.headers['x-upsert'] === 'true'),
  );

  app.put<{ Params: ObjectParams }>(
    '/object/:bucketName/*',
    { schema: { summary: 'Supabase: create or replace an object', tags: TAGS, params: objectParamsSchema } },
    upload(() => true),
  );
}
