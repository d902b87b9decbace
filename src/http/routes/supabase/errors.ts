import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, StorageError } from '../../../core/errors.js';
import { closesConnection, publicError } from '../../errors.js';

/**
 * Supabase Storage's error answers: a JSON body `{ statusCode, error, message, code }` whose
 * `statusCode` is the real status as a string, sent with HTTP 400 for every client error (its API
 * does that; storage-js reads the body). Server-side failures, 416 and role checks keep their
 * real status. Resumable (TUS) routes always send the real status, as TUS clients need it.
 */
export interface SupabaseErrorBody {
  statusCode: string;
  error: string;
  message: string;
  code: string;
}

type Shape = { status: number; error: string; code: string; message?: string };

const SHAPES: Record<ErrorCode, Shape> = {
  NotFound: { status: 404, error: 'not_found', code: 'NoSuchKey', message: 'Object not found' },
  AlreadyExists: { status: 409, error: 'Duplicate', code: 'KeyAlreadyExists', message: 'The resource already exists' },
  InvalidKey: { status: 400, error: 'InvalidKey', code: 'InvalidKey' },
  InvalidArgument: { status: 400, error: 'InvalidRequest', code: 'InvalidRequest' },
  TooLarge: { status: 413, error: 'Payload too large', code: 'EntityTooLarge', message: 'The object exceeded the maximum allowed size' },
  UnsupportedType: { status: 415, error: 'invalid_mime_type', code: 'InvalidMimeType' },
  Unauthenticated: { status: 403, error: 'Unauthorized', code: 'AccessDenied' },
  Forbidden: { status: 403, error: 'Unauthorized', code: 'AccessDenied' },
  InvalidToken: { status: 400, error: 'InvalidJWT', code: 'InvalidJWT' },
  PreconditionFailed: { status: 412, error: 'PreconditionFailed', code: 'InvalidRequest' },
  RangeNotSatisfiable: { status: 416, error: 'invalid_range', code: 'InvalidRange', message: 'invalid range provided' },
  ChecksumMismatch: { status: 400, error: 'InvalidChecksum', code: 'InvalidChecksum' },
  BackendUnavailable: { status: 503, error: 'ServiceUnavailable', code: 'InternalError' },
  InsufficientStorage: { status: 507, error: 'InsufficientStorage', code: 'InternalError' },
  Unsupported: { status: 409, error: 'NotSupported', code: 'NotSupported' },
  RateLimited: { status: 429, error: 'too_many_requests', code: 'SlowDown' },
  RequestTimeout: { status: 408, error: 'Request Timeout', code: 'InvalidRequest' },
  HeadersTooLarge: { status: 431, error: 'Request Header Fields Too Large', code: 'InvalidRequest' },
  LengthRequired: { status: 411, error: 'Length Required', code: 'InvalidRequest' },
  ConfigInvalid: { status: 500, error: 'internal', code: 'InternalError', message: 'Internal Server Error' },
  Internal: { status: 500, error: 'internal', code: 'InternalError', message: 'Internal Server Error' },
};

/** Statuses Supabase sends as they are; every other client error travels as HTTP 400. */
const KEPT = new Set([416, 429, 500, 503, 507]);

function shapeOf(err: StorageError): Shape {
  const details = err.details ?? {};
  if (err.code === 'NotFound' && details.resource === 'bucket') return { status: 404, error: 'Bucket not found', code: 'NoSuchBucket', message: 'Bucket not found' };
  if (err.code === 'NotFound' && details.resource === 'upload') return { status: 404, error: 'not_found', code: 'NoSuchUpload', message: 'Upload not found' };
  if (err.code === 'AlreadyExists' && details.resource === 'bucket') return { ...SHAPES.AlreadyExists, code: 'BucketAlreadyExists' };
  if (details.supabaseCode === 'ResourceNotEmpty') return { status: 409, error: 'ResourceNotEmpty', code: 'ResourceNotEmpty' };
  if (details.supabaseCode === 'ResourceLocked') return { status: 423, error: 'ResourceLocked', code: 'ResourceLocked' };
  if (details.tusConflict) return { status: 409, error: 'Conflict', code: 'InvalidRequest' };
  if (err.code === 'InvalidToken' && typeof details.supabaseCode === 'string') {
    return { status: 400, error: details.supabaseCode, code: details.supabaseCode };
  }
  return SHAPES[err.code];
}

export function supabaseError(thrown: unknown, opts: { realStatus?: boolean } = {}): { status: number; body: SupabaseErrorBody } {
  const err = publicError(thrown);
  const shape = shapeOf(err);
  const body: SupabaseErrorBody = { statusCode: String(shape.status), error: shape.error, message: shape.message ?? err.message, code: shape.code };
  const status = opts.realStatus || KEPT.has(shape.status) ? shape.status : 400;
  return { status, body };
}

export function sendSupabaseError(request: FastifyRequest, reply: FastifyReply, thrown: unknown, opts: { realStatus?: boolean } = {}) {
  const { status, body } = supabaseError(thrown, opts);
  if (status >= 500 && status !== 503 && status !== 507) request.log.error({ err: thrown }, 'supabase-compatible request failed');
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  for (const name of ['content-disposition', 'content-length', 'etag', 'last-modified', 'content-range', 'accept-ranges', 'cache-control']) reply.removeHeader(name);
  if (closesConnection(request, thrown)) reply.header('connection', 'close');
  if (body.code === 'InvalidRange' && thrown instanceof StorageError && typeof thrown.details?.size === 'number') {
    reply.header('content-range', `bytes */${thrown.details.size}`);
  }
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
