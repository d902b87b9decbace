import { StorageError } from './errors.js';
import type { ByteRange, PutOptions } from './types.js';

/**
 * The Backend contract's own argument checks, shared by every backend so they refuse the
 * same things with the same words before touching a body. Metadata rules differ per store
 * (header names, sizes), so each backend checks metadata itself.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

function headerText(name: string, value: unknown, asciiOnly: boolean): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > 1024 || CONTROL.test(value) || (asciiOnly && !/^[\x20-\x7e]+$/.test(value))) {
    throw new StorageError('InvalidArgument', `${name} must be a non-empty line of ${asciiOnly ? 'ASCII ' : ''}text`);
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

export interface CheckedPutOptions {
  contentType: string;
  cacheControl: string | undefined;
  createOnly: boolean;
  /** Infinity when no limit was given. */
  maxBytes: number;
  contentLength: number | undefined;
  /** Lower-case hex. */
  sha256: string | undefined;
  signal: AbortSignal | undefined;
}

/** Everything about a put (but its metadata) that can be refused before the body is touched. */
export function checkPutOptions(opts: PutOptions, rules: { asciiHeaders?: boolean } = {}): CheckedPutOptions {
  const ascii = rules.asciiHeaders === true;
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
    contentType: headerText('contentType', opts.contentType, ascii) ?? DEFAULT_CONTENT_TYPE,
    cacheControl: headerText('cacheControl', opts.cacheControl, ascii),
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

export function checkDescribe(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new StorageError('InvalidArgument', 'describe must be true or false');
  return value;
}
