import { StorageError } from '../../core/errors.js';

/**
 * Errors of the Supabase-compatible API keep bucketgate's closed set of codes; `details.resource`
 * and `details.supabaseCode` let the HTTP edge answer with Supabase's own error names
 * (`NoSuchBucket` versus `NoSuchKey`, `ResourceNotEmpty`, …) without a second error type.
 */
export type SupabaseResource = 'bucket' | 'object' | 'upload';

export function bucketNotFound(): StorageError {
  return new StorageError('NotFound', 'Bucket not found', { details: { resource: 'bucket' } });
}

export function objectNotFound(): StorageError {
  return new StorageError('NotFound', 'Object not found', { details: { resource: 'object' } });
}

export function bucketExists(name: string): StorageError {
  return new StorageError('AlreadyExists', `bucket "${name}" already exists`, { details: { resource: 'bucket' } });
}

export function bucketNotEmpty(): StorageError {
  return new StorageError('PreconditionFailed', 'The bucket you tried to delete is not empty', { details: { supabaseCode: 'ResourceNotEmpty' } });
}

/** bucketgate's buckets are its configured segments; changing them is a configuration change. */
export function segmentsAreConfigured(what: string): StorageError {
  return new StorageError(
    'Unsupported',
    `${what}: bucketgate's buckets are its configured segments; add or change them in BHIV_SEGMENTS_FILE and restart`,
  );
}
