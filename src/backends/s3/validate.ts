import { StorageError } from '../../core/errors.js';
import type { ByteRange, PutOptions } from '../../core/types.js';
import { DEFAULT_CONTENT_TYPE, checkMetadata } from './metadata.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function headerText(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  // Non-ASCII cannot travel in an HTTP header unchanged.
  if (typeof value !== 'string' || value === '' || value.length > 1024 || CONTROL.test(value) || !/^[\x20-\x7e]+$/.test(value)) {
    throw new StorageError('InvalidArgument', `${name} must be a non-empty line of ASCII text`);
  }
  return value;
}

function byteCount(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (Number.isFinite(value) && !Number.isSafeInteger(value))) {
    throw new StorageError('InvalidArgument', `${name} must be a whole number of bytes`);
  }
  return value;
}

export function checkIfNoneMatch(value: unknown): boolean {
  if (value !== undefined && value !== '*') throw new StorageError('InvalidArgument', 'ifNoneMatch may only be "*"');
  return value === '*';
}

export interface CheckedPut {
  contentType: string;
  cacheControl: string | undefined;
  metadata: Record<string, string>;
  createOnly: boolean;
  maxBytes: number;
  contentLength: number | undefined;
  sha256: string | undefined;
  signal: AbortSignal | undefined;
}

/** Everything about a put that can be refused before the body is touched. */
export function checkPutOptions(opts: PutOptions): CheckedPut {
  const maxBytes = byteCount('maxBytes', opts.maxBytes) ?? Number.POSITIVE_INFINITY;
  const contentLength = byteCount('contentLength', opts.contentLength);
  if (contentLength !== undefined && !Number.isFinite(contentLength)) throw new StorageError('InvalidArgument', 'contentLength must be finite');
  if (opts.sha256 !== undefined && (typeof opts.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(opts.sha256))) {
    throw new StorageError('InvalidArgument', 'sha256 must be 64 hex digits');
  }
  if (contentLength !== undefined && contentLength > maxBytes) {
    throw new StorageError('TooLarge', `body of ${contentLength} bytes is larger than the limit of ${maxBytes} bytes`, { details: { limit: maxBytes } });
  }
  return {
    contentType: headerText('contentType', opts.contentType) ?? DEFAULT_CONTENT_TYPE,
    cacheControl: headerText('cacheControl', opts.cacheControl),
    metadata: checkMetadata(opts.metadata),
    createOnly: checkIfNoneMatch(opts.ifNoneMatch),
    maxBytes,
    contentLength,
    sha256: opts.sha256?.toLowerCase(),
    signal: opts.signal,
  };
}

/** A range's shape, checked before any I/O: a malformed one can never be satisfied. */
export function checkRangeShape(range: ByteRange): void {
  const bad = () => new StorageError('RangeNotSatisfiable', 'range not satisfiable');
  if (typeof range !== 'object' || range === null) throw bad();
  if ('suffix' in range) {
    if (!Number.isSafeInteger(range.suffix) || range.suffix <= 0) throw bad();
    return;
  }
  if (!Number.isSafeInteger(range.start) || range.start < 0) throw bad();
  if (range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < range.start)) throw bad();
}

export function checkDelimiter(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 64 || CONTROL.test(value)) throw new StorageError('InvalidArgument', 'delimiter must be a short string');
  return value;
}
