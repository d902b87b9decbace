import { type ErrorCode, StorageError, isStorageError } from '../../core/errors.js';

/**
 * Supabase answers most client errors with HTTP 400 and the real status in the body's
 * `statusCode` (`{ statusCode: '404', error: 'not_found', message: 'Object not found' }`), so
 * the body decides when it is there. Each status maps onto one core code; a store that cannot
 * be reached, or fails on its side, is BackendUnavailable (temporary), never NotFound.
 */
export interface SupabaseErrorBody {
  statusCode?: string | number;
  error?: string;
  message?: string;
  code?: string;
}

function codeFor(status: number, body: SupabaseErrorBody): ErrorCode {
  if (body.code === 'InvalidKey') return 'InvalidKey';
  if (body.code === 'InvalidJWT' || status === 401) return 'Unauthenticated';
  if (body.code === 'InvalidRange') return 'RangeNotSatisfiable';
  if (body.code === 'NotSupported' || body.code === 'FeatureNotEnabled') return 'Unsupported';
  switch (status) {
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'AlreadyExists';
    case 412:
      return 'PreconditionFailed';
    case 413:
      return 'TooLarge';
    case 415:
      return 'UnsupportedType';
    case 416:
      return 'RangeNotSatisfiable';
    case 429:
      return 'RateLimited';
    case 507:
      return 'InsufficientStorage';
    default:
      return status >= 500 ? 'BackendUnavailable' : 'InvalidArgument';
  }
}

/** Reads an error response (at most 64 KiB of it) into a StorageError naming the operation. */
export async function errorFromResponse(res: Response, what: string): Promise<StorageError> {
  let body: SupabaseErrorBody = {};
  let text = '';
  try {
    text = (await res.text()).slice(0, 64 * 1024);
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as SupabaseErrorBody;
  } catch {
    // Not JSON (a proxy's page, a TUS text answer): the HTTP status alone decides.
  }
  const fromBody = Number(body.statusCode);
  const status = Number.isInteger(fromBody) && fromBody >= 400 ? fromBody : res.status;
  const message = body.message ?? body.error ?? (text && text.length < 200 ? text : res.statusText);
  return new StorageError(codeFor(status, body), `Supabase ${what}: ${message || `HTTP ${res.status}`}`, {
    details: { status, supabaseCode: body.code, httpStatus: res.status },
  });
}

/** A request that never got an answer. */
export function networkError(err: unknown, what: string): StorageError {
  if (isStorageError(err)) return err;
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const reason = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
  if ((err as Error)?.name === 'TimeoutError') return new StorageError('BackendUnavailable', `Supabase ${what}: timed out`, { cause: err });
  return new StorageError('BackendUnavailable', `Supabase ${what}: cannot reach the server (${reason})`, { cause: err });
}
