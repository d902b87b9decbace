import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, StorageError, isStorageError } from '../core/errors.js';

const STATUS: Record<ErrorCode, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  InvalidKey: 400,
  InvalidArgument: 400,
  TooLarge: 413,
  UnsupportedType: 415,
  Unauthenticated: 401,
  Forbidden: 403,
  InvalidToken: 401,
  PreconditionFailed: 412,
  RangeNotSatisfiable: 416,
  ChecksumMismatch: 422,
  BackendUnavailable: 503,
  InsufficientStorage: 507,
  Unsupported: 501,
  RateLimited: 429,
  RequestTimeout: 408,
  HeadersTooLarge: 431,
  LengthRequired: 411,
  ConfigInvalid: 500,
  Internal: 500,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

/** Turns whatever was thrown into a StorageError fit to show a user (no stack, no raw backend text). */
export function publicError(err: unknown): StorageError {
  if (isStorageError(err)) return err;
  const fe = err as FastifyError & { code?: string };
  if (fe?.validation) return new StorageError('InvalidArgument', `request is invalid: ${fe.message}`);
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new StorageError('TooLarge', 'request body is too large');
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new StorageError('UnsupportedType', 'unsupported content type');
  if (fe?.code?.startsWith?.('FST_ERR_CTP') || fe?.statusCode === 400) return new StorageError('InvalidArgument', 'request body is malformed');
  if (fe?.statusCode === 404) return new StorageError('NotFound', 'no such route');
  return new StorageError('Internal', 'internal error');
}

export function errorBody(err: StorageError) {
  return { error: { code: err.code, message: err.message } };
}

/**
 * Whether an error answer ends the connection: whatever is left of an unread body is not read,
 * and the bytes of a body that gave no length cannot be told from a next request.
 */
export function closesConnection(request: FastifyRequest, thrown: unknown): boolean {
  return !request.raw.complete || isStorageError(thrown, 'LengthRequired');
}

export function sendError(request: FastifyRequest, reply: FastifyReply, thrown: unknown) {
  const err = publicError(thrown);
  const status = statusOf(err.code);
  if (status >= 500 && err.code !== 'BackendUnavailable' && err.code !== 'InsufficientStorage') {
    request.log.error({ err: thrown }, 'request failed');
  }
  if (reply.sent || reply.raw.headersSent) {
    // The body already started: all we can do is cut the connection so the client sees a failure.
    reply.raw.destroy();
    return;
  }
  if (err.code === 'RangeNotSatisfiable' && typeof err.details?.size === 'number') reply.header('content-range', `bytes */${err.details.size}`);
  if (err.code === 'Unauthenticated' || err.code === 'InvalidToken') reply.header('www-authenticate', 'Bearer');
  // An error is about this request only: no cache keeps it (a public object's headers said public).
  reply.header('cache-control', 'no-store');
  if (closesConnection(request, err)) reply.header('connection', 'close');
  reply.removeHeader('content-disposition');
  reply.removeHeader('content-length');
  reply.removeHeader('etag');
  reply.removeHeader('last-modified');
  return reply.code(status).type('application/json; charset=utf-8').send(errorBody(err));
}
