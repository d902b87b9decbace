import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StorageError } from '../../../core/errors.js';
import { normalizeCacheControl, parseMetadataJson } from '../../../service/supabase/metadata.js';
import { type SupabaseDeps, TAGS } from './deps.js';
import { sendSupabaseError } from './errors.js';

/**
 * `/upload/resumable`: Supabase's TUS 1.0.0 endpoint (core, creation, creation-defer-length,
 * termination). Upload-Metadata carries bucketName, objectName, contentType, cacheControl and
 * metadata (JSON), as Supabase's clients send them. Errors keep their real HTTP status.
 */
const TUS_VERSION = '1.0.0';
const EXTENSIONS = 'creation,creation-defer-length,termination';
const PATH = '/upload/resumable';

type IdParams = { Params: { id: string } };

/** `key base64,key base64,…` (a key may come without a value). */
export function parseUploadMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const pair of header.split(',')) {
    const [key, value, extra] = pair.trim().split(' ');
    if (!key || extra !== undefined || (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value))) {
      throw new StorageError('InvalidArgument', 'Invalid Upload-Metadata header');
    }
    out[key] = value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8');
  }
  return out;
}

function count(header: string | string[] | undefined, name: string): number | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !/^\d{1,16}$/.test(header)) throw new StorageError('InvalidArgument', `${name} must be a whole number`);
  return Number(header);
}

function tusHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('tus-resumable', TUS_VERSION).header('cache-control', 'no-store');
}

/** Where the client sends its PATCHes: PUBLIC_URL when the operator set one, else the host it reached us at. */
function locationOf(request: FastifyRequest, deps: SupabaseDeps, id: string): string {
  const base = deps.storage.config.env.PUBLIC_URL ? deps.storage.config.publicUrl : `${request.protocol}://${request.headers.host ?? request.hostname}`;
  return `${base}/storage/v1${PATH}/${id}`;
}

export async function resumableRoutes(app: FastifyInstance, deps: SupabaseDeps) {
  const { tus, storage } = deps;
  const fail = (request: FastifyRequest, reply: FastifyReply, err: unknown) => {
    return sendSupabaseError(request, tusHeaders(reply), err, { realStatus: true });
  };
  const checkVersion = (request: FastifyRequest) => {
    if (request.headers['tus-resumable'] !== TUS_VERSION) {
      throw new StorageError('PreconditionFailed', `Tus-Resumable must be ${TUS_VERSION}`);
    }
  };

  for (const url of [PATH, `${PATH}/:id`]) {
    app.options(url, { schema: { summary: 'Supabase: TUS capabilities', tags: TAGS } }, async (_request, reply) =>
      reply
        .code(204)
        .header('tus-resumable', TUS_VERSION)
        .header('tus-version', TUS_VERSION)
        .header('tus-extension', EXTENSIONS)
        .header('tus-max-size', String(storage.config.maxUploadBytes))
        .send(),
    );
  }

  app.post(PATH, { schema: { summary: 'Supabase: create a resumable (TUS) upload', tags: TAGS } }, async (request, reply) => {
    try {
      checkVersion(request);
      const length = count(request.headers['upload-length'], 'Upload-Length');
      if (length === undefined && request.headers['upload-defer-length'] !== '1') throw new StorageError('InvalidArgument', 'Upload-Length or Upload-Defer-Length: 1 is required');
      const meta = parseUploadMetadata(request.headers['upload-metadata'] as string | undefined);
      if (!meta.bucketName || !meta.objectName) throw new StorageError('InvalidArgument', 'Upload-Metadata needs bucketName and objectName');
      const upload = await tus.create(request.principal, {
        bucket: meta.bucketName,
        name: meta.objectName,
        length,
        contentType: meta.contentType || undefined,
        cacheControl: normalizeCacheControl(meta.cacheControl),
        userMetadata: meta.metadata ? parseMetadataJson(meta.metadata, 'Upload-Metadata metadata') : undefined,
        upsert: request.headers['x-upsert'] === 'true',
      });
      return tusHeaders(reply).code(201).header('location', locationOf(request, deps, upload.id)).header('upload-offset', '0').send();
    } catch (err) {
      return fail(request, reply, err);
    }
  });

  app.head<IdParams>(`${PATH}/:id`, { schema: { summary: 'Supabase: offset of a resumable upload', tags: TAGS } }, async (request, reply) => {
    try {
      checkVersion(request);
      const { upload, offset } = await tus.authorized(request.principal, request.params.id);
      tusHeaders(reply).header('upload-offset', String(offset));
      if (upload.length === undefined) reply.header('upload-defer-length', '1');
      else reply.header('upload-length', String(upload.length));
      return reply.code(200).send();
    } catch (err) {
      return fail(request, reply, err);
    }
  });

  app.patch<IdParams>(`${PATH}/:id`, { schema: { summary: 'Supabase: append to a resumable upload', tags: TAGS } }, async (request, reply) => {
    try {
      checkVersion(request);
      if (request.headers['content-type'] !== 'application/offset+octet-stream') {
        throw new StorageError('UnsupportedType', 'Content-Type must be application/offset+octet-stream');
      }
      const offset = count(request.headers['upload-offset'], 'Upload-Offset');
      if (offset === undefined) throw new StorageError('InvalidArgument', 'Upload-Offset is required');
      const result = await tus.append(request.principal, request.params.id, {
        offset,
        length: count(request.headers['upload-length'], 'Upload-Length'),
        body: request.raw,
      });
      return tusHeaders(reply).code(204).header('upload-offset', String(result.offset)).send();
    } catch (err) {
      return fail(request, reply, err);
    }
  });

  app.delete<IdParams>(`${PATH}/:id`, { schema: { summary: 'Supabase: cancel a resumable upload', tags: TAGS } }, async (request, reply) => {
    try {
      checkVersion(request);
      await tus.cancel(request.principal, request.params.id);
      return tusHeaders(reply).code(204).send();
    } catch (err) {
      return fail(request, reply, err);
    }
  });
}
