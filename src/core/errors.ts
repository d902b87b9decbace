/**
 * One error type for the whole project, with a closed set of codes (DESIGN §5).
 * Backends map their own failures onto these codes; edges (HTTP, CLI) map codes onto
 * statuses and exit codes. `temporary` tells the retry layer whether trying again may help.
 */
export const ERROR_CODES = [
  'NotFound',
  'AlreadyExists',
  'InvalidKey',
  'InvalidArgument',
  'TooLarge',
  'UnsupportedType',
  'Unauthenticated',
  'Forbidden',
  'InvalidToken',
  'PreconditionFailed',
  'RangeNotSatisfiable',
  'ChecksumMismatch',
  'BackendUnavailable',
  'InsufficientStorage',
  'Unsupported',
  'RateLimited',
  'RequestTimeout',
  'HeadersTooLarge',
  'LengthRequired',
  'ConfigInvalid',
  'Internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes whose cause may go away by itself; everything else is permanent. */
const TEMPORARY: ReadonlySet<ErrorCode> = new Set(['BackendUnavailable', 'RateLimited']);

export interface StorageErrorOptions {
  cause?: unknown;
  /** Overrides the default temporariness of the code (e.g. a permanent BackendUnavailable: bad credentials). */
  temporary?: boolean;
  /** Extra, non-secret facts for logs and diagnostics. */
  details?: Record<string, unknown>;
}

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: ErrorCode;
  readonly temporary: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.temporary = options.temporary ?? TEMPORARY.has(code);
    this.details = options.details;
  }
}

export function isStorageError(err: unknown, code?: ErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a StorageError, keeping StorageErrors as they are. */
export function toStorageError(err: unknown, fallback: ErrorCode = 'Internal', message?: string): StorageError {
  if (err instanceof StorageError) return err;
  const text = message ?? (err instanceof Error ? err.message : String(err));
  return new StorageError(fallback, text, { cause: err });
}
