import { type ErrorCode, StorageError, isStorageError } from '../../core/errors.js';

/** What was being done when S3 failed, for a message a person can act on. */
export interface S3ErrorContext {
  /** `put`, `get`, `head`, `list`, `copy`, `delete`, … */
  op: string;
  /** The object key, prefix or other subject (never a credential). */
  subject?: string;
  bucket?: string;
  /** The request carried `If-None-Match: *`: a 412 or 409 means the key already exists. */
  createOnly?: boolean;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError']);
const THROTTLED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'ServiceUnavailable', 'XMinioServerNotInitialized']);
const BAD_CREDENTIALS: Record<string, string> = {
  InvalidAccessKeyId: 'the access key (AWS_ACCESS_KEY_ID) is not known to the store',
  SignatureDoesNotMatch: 'the secret key (AWS_SECRET_ACCESS_KEY) does not match the access key, or the clock is off',
  InvalidToken: 'the session token is invalid',
  ExpiredToken: 'the session token has expired',
  TokenRefreshRequired: 'the session token has expired',
  RequestTimeTooSkewed: "this machine's clock differs too much from the store's",
  CredentialsProviderError: 'no S3 credentials were found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
  MissingAuthenticationToken: 'the request carried no credentials',
};

function shapeOf(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

/** The S3 error code (`NoSuchKey`, `SlowDown`, …) or network error code, if any. */
export function s3ErrorName(err: unknown): string | undefined {
  const e = shapeOf(err);
  return e.Code ?? (e.name && e.name !== 'Error' ? e.name : undefined) ?? e.code;
}

export function s3Status(err: unknown): number | undefined {
  return shapeOf(err).$metadata?.httpStatusCode;
}

/** The cause of a network failure, through the SDK's wrapping. */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = shapeOf(e).code;
    if (code && NETWORK_CODES.has(code)) return code;
    const name = shapeOf(e).name;
    if (name && NETWORK_NAMES.has(name)) return name;
  }
  return undefined;
}

function make(code: ErrorCode, message: string, err: unknown, extra: { temporary?: boolean } = {}): StorageError {
  const e = shapeOf(err);
  // The SDK's error is not kept as `cause`: it can carry request details, and no credential may reach a log.
  const details: Record<string, unknown> = {};
  const name = s3ErrorName(err);
  if (name) details.s3Code = name;
  if (e.$metadata?.httpStatusCode) details.status = e.$metadata.httpStatusCode;
  if (e.$metadata?.requestId) details.requestId = e.$metadata.requestId;
  return new StorageError(code, message, { details, ...(extra.temporary === undefined ? {} : { temporary: extra.temporary }) });
}

/**
 * Maps an SDK or network failure onto the core codes (DESIGN §5). Messages are written here,
 * never copied from the store, so nothing secret or confusing reaches a user.
 */
export function fromS3Error(err: unknown, ctx: S3ErrorContext): StorageError {
  if (isStorageError(err)) return err;
  const name = s3ErrorName(err);
  const status = s3Status(err);
  const what = ctx.subject ? `${ctx.op} ${ctx.subject}` : ctx.op;
  const bucket = ctx.bucket ? `bucket "${ctx.bucket}"` : 'the bucket';

  if (name === 'AbortError') return make('InvalidArgument', `${what} was aborted`, err);
  const net = networkCode(err);
  if (net) return make('BackendUnavailable', `${what}: the S3 endpoint could not be reached (${net})`, err, { temporary: true });

  if (name && name in BAD_CREDENTIALS) return make('Unauthenticated', `${what}: ${BAD_CREDENTIALS[name]}`, err, { temporary: false });
  switch (name) {
    case 'NoSuchBucket':
      return make('NotFound', `${what}: ${bucket} does not exist`, err, { temporary: false });
    case 'NoSuchKey':
      return make('NotFound', `no object at ${ctx.subject ?? 'that key'}`, err);
    case 'NoSuchUpload':
      return make('NotFound', `${what}: the multipart upload is gone`, err);
    case 'PreconditionFailed':
    case 'ConditionalRequestConflict':
      return ctx.createOnly
        ? make('AlreadyExists', `${ctx.subject ?? 'the object'} already exists`, err)
        : make('PreconditionFailed', `${what}: the object changed meanwhile`, err);
    case 'InvalidRange':
      return make('RangeNotSatisfiable', `${what}: range not satisfiable`, err);
    case 'EntityTooLarge':
      return make('TooLarge', `${what}: the store refuses a body this large`, err);
    case 'EntityTooSmall':
    case 'InvalidPart':
    case 'InvalidPartOrder':
      return make('InvalidArgument', `${what}: the store refused the upload's parts (${name})`, err);
    case 'BadDigest':
    case 'InvalidDigest':
    case 'XAmzContentSHA256Mismatch':
    case 'XAmzContentChecksumMismatch':
      return make('ChecksumMismatch', `${what}: the store received other bytes than were sent`, err);
    case 'AuthorizationHeaderMalformed':
    case 'PermanentRedirect':
    case 'IllegalLocationConstraintException':
      return make('ConfigInvalid', `${what}: ${bucket} is in another region than S3_REGION says`, err);
    case 'InvalidBucketName':
      return make('ConfigInvalid', `${what}: ${bucket} is not a valid bucket name`, err);
    case 'AccessDenied':
    case 'AllAccessDisabled':
    case 'AccountProblem':
      return make('Forbidden', `${what}: the credentials are not allowed to do this on ${bucket}`, err, { temporary: false });
    case 'NotImplemented':
    case 'XMinioNotImplemented':
      return make('Unsupported', `${what}: this S3 server does not implement it`, err);
    case 'QuotaExceeded':
    case 'XMinioStorageFull':
    case 'XMinioAdminBucketQuotaExceeded':
      return make('InsufficientStorage', `${what}: the store is full`, err);
    case 'InvalidArgument':
    case 'InvalidRequest':
    case 'KeyTooLongError':
    case 'MetadataTooLarge':
    case 'InvalidStorageClass':
      return make('InvalidArgument', `${what}: the store refused the request (${name})`, err);
  }
  if (name && THROTTLED.has(name)) return make('BackendUnavailable', `${what}: the store is busy (${name}); try again`, err, { temporary: true });
  switch (status) {
    case 301:
    case 307:
      return make('ConfigInvalid', `${what}: ${bucket} is in another region than S3_REGION says`, err);
    case 400:
      return make('InvalidArgument', `${what}: the store refused the request${name ? ` (${name})` : ''}`, err);
    case 401:
      return make('Unauthenticated', `${what}: the store did not accept the credentials`, err, { temporary: false });
    case 403:
      // A HEAD has no body to say why; most often the credentials lack permission.
      return make('Forbidden', `${what}: access denied on ${bucket}`, err, { temporary: false });
    case 404:
      return make('NotFound', ctx.subject ? `no object at ${ctx.subject}` : `${what}: not found`, err);
    case 409:
      return make('PreconditionFailed', `${what}: conflicts with another change${name ? ` (${name})` : ''}`, err);
    case 412:
      return ctx.createOnly ? make('AlreadyExists', `${ctx.subject ?? 'the object'} already exists`, err) : make('PreconditionFailed', `${what}: a precondition failed`, err);
    case 413:
      return make('TooLarge', `${what}: the store refuses a body this large`, err);
    case 416:
      return make('RangeNotSatisfiable', `${what}: range not satisfiable`, err);
    case 429:
      return make('BackendUnavailable', `${what}: the store is throttling requests; try again`, err, { temporary: true });
    case 501:
      return make('Unsupported', `${what}: this S3 server does not implement it`, err);
    case 507:
      return make('InsufficientStorage', `${what}: the store is full`, err);
  }
  if (status !== undefined && status >= 500) return make('BackendUnavailable', `${what}: the store failed (${status}${name ? ` ${name}` : ''}); try again`, err, { temporary: true });
  if (shapeOf(err).$fault === 'server') return make('BackendUnavailable', `${what}: the store failed${name ? ` (${name})` : ''}`, err, { temporary: true });
  return make('Internal', `${what} failed${name ? ` (${name})` : ''}`, err);
}

/** Runs one S3 call, mapping any failure. */
export async function s3Call<T>(ctx: S3ErrorContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw fromS3Error(err, ctx);
  }
}
