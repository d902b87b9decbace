import type { FastifyInstance } from 'fastify';
import { StorageError } from '../../../core/errors.js';
import {
  type BucketSettings,
  type ListBucketsOptions,
  createBucket,
  deleteBucket,
  emptyBucket,
  getBucket,
  listBuckets,
  updateBucket,
} from '../../../service/supabase/buckets.js';
import { type SupabaseDeps, TAGS } from './deps.js';
import { sendSupabaseError } from './errors.js';

const idParams = { type: 'object', properties: { bucketId: { type: 'string', maxLength: 100 } }, required: ['bucketId'] } as const;

const settingsSchema = {
  public: { type: 'boolean' },
  // Bytes or a string such as "20MB", as Supabase takes it.
  file_size_limit: { anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 32 }, { type: 'null' }] },
  allowed_mime_types: { anyOf: [{ type: 'array', items: { type: 'string', maxLength: 255 } }, { type: 'null' }] },
} as const;

/** `/bucket…`: Supabase buckets, which are bucketgate's configured segments. */
export async function bucketRoutes(app: FastifyInstance, { storage }: SupabaseDeps) {
  const ctx = storage.ctx;

  app.get<{ Querystring: ListBucketsOptions }>(
    '/bucket',
    {
      schema: {
        summary: 'Supabase: list buckets (the configured segments)',
        tags: TAGS,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1 },
            offset: { type: 'integer', minimum: 0 },
            sortColumn: { type: 'string', enum: ['id', 'name', 'created_at', 'updated_at'] },
            sortOrder: { type: 'string', enum: ['asc', 'desc'] },
            search: { type: 'string', maxLength: 100 },
          },
        },
      },
    },
    async (request) => listBuckets(ctx, request.principal, request.query),
  );

  app.get<{ Params: { bucketId: string } }>(
    '/bucket/:bucketId',
    { schema: { summary: 'Supabase: get a bucket', tags: TAGS, params: idParams } },
    async (request) => getBucket(ctx, request.principal, request.params.bucketId),
  );

  app.post<{ Body: BucketSettings & { id?: string; name: string } }>(
    '/bucket',
    {
      schema: {
        summary: 'Supabase: create a bucket (answers "already exists" for a configured segment; new buckets are a configuration change)',
        tags: TAGS,
        body: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, ...settingsSchema }, required: ['name'] },
      },
    },
    async (request) => {
      const { id, name, ...settings } = request.body;
      return createBucket(ctx, request.principal, id || name, settings);
    },
  );

  app.put<{ Params: { bucketId: string }; Body: BucketSettings }>(
    '/bucket/:bucketId',
    {
      schema: {
        summary: 'Supabase: update a bucket (succeeds only when it changes nothing)',
        tags: TAGS,
        params: idParams,
        body: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, ...settingsSchema } },
      },
    },
    async (request) => {
      const { public: isPublic, file_size_limit, allowed_mime_types } = request.body;
      updateBucket(ctx, request.principal, request.params.bucketId, { public: isPublic, file_size_limit, allowed_mime_types });
      return { message: 'Successfully updated' };
    },
  );

  app.post<{ Params: { bucketId: string } }>(
    '/bucket/:bucketId/empty',
    { schema: { summary: 'Supabase: delete every object of a bucket (service_role)', tags: TAGS, params: idParams } },
    async (request, reply) => {
      if (request.principal.role !== 'service_role') {
        // Supabase checks this role before the route runs, and answers with a real 403.
        const reason = request.principal.role === 'anon' ? 'Access denied: JWT is not authenticated' : 'Access denied: Invalid role';
        return sendSupabaseError(request, reply, new StorageError('Forbidden', reason), { realStatus: true });
      }
      await emptyBucket(ctx, request.principal, request.params.bucketId);
      return { message: 'Successfully emptied' };
    },
  );

  app.delete<{ Params: { bucketId: string } }>(
    '/bucket/:bucketId',
    { schema: { summary: 'Supabase: delete a bucket (refused: buckets are configured segments)', tags: TAGS, params: idParams } },
    async (request) => deleteBucket(ctx, request.principal, request.params.bucketId),
  );
}
