import { StorageError } from '../../core/errors.js';
import type { PutOptions } from '../../core/types.js';
import { DEFAULT_CONTENT_TYPE, checkMetadata } from './metadata.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkHeaderText(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > 1024 || CONTROL.test(value)) {
    throw new StorageError('InvalidArgument', `${name} must be a non-empty line of text`);
  }
  return value;
}

function checkCount(name: string, value: unknown): number | undefined {
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

/** Everything about a put that can be refused before the body is touched. */
export function checkPutOptions(opts: PutOptions) {
  const maxBytes = checkCount('maxBytes', opts.maxBytes);
  const contentLength = checkCount('contentLength', opts.contentLength);
  if (contentLength !== undefined && !Number.isFinite(contentLength)) throw new StorageError('InvalidArgument', 'contentLength must be finite');
  if (opts.sha256 !== undefined && (typeof opts.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(opts.sha256))) {
    throw new StorageError('InvalidArgument', 'sha256 must be 64 hex digits');
  }
  if (contentLength !== undefined && maxBytes !== undefined && contentLength > maxBytes) {
    throw new StorageError('TooLarge', `body of ${contentLength} bytes is larger than the limit of ${maxBytes} bytes`, { details: { limit: maxBytes } });
  }
  return {
    contentType: checkHeaderText('contentType', opts.contentType) ?? DEFAULT_CONTENT_TYPE,
    cacheControl: checkHeaderText('cacheControl', opts.cacheControl),
    metadata: checkMetadata(opts.metadata),
    createOnly: checkIfNoneMatch(opts.ifNoneMatch),
    maxBytes,
    contentLength,
  };
}

export function checkDelimiter(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 64) throw new StorageError('InvalidArgument', 'delimiter must be a short string');
  return value;
}
