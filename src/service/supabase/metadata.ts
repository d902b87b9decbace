import { StorageError } from '../../core/errors.js';

/**
 * Supabase keeps two things a bucketgate backend has no field for: arbitrary JSON user
 * metadata and the object's Cache-Control. Both travel in the backend's string metadata under
 * a reserved `supabase.` prefix, so any backend can hold them and reading them back is lossless.
 */
const RESERVED = 'supabase.';
const CACHE_CONTROL = `${RESERVED}cache-control`;
const JSON_VALUE = `${RESERVED}json.`;
const MAX_METADATA_BYTES = 64 * 1024;

export type UserMetadata = Record<string, unknown>;

export function encodeMetadata(user: UserMetadata | undefined, cacheControl: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(user ?? {})) {
    if (name.startsWith(RESERVED)) throw new StorageError('InvalidArgument', `metadata names starting with "${RESERVED}" are reserved`);
    if (value === undefined) continue;
    if (typeof value === 'string') out[name] = value;
    else out[`${JSON_VALUE}${name}`] = JSON.stringify(value);
  }
  if (cacheControl) out[CACHE_CONTROL] = cacheControl;
  if (Buffer.byteLength(JSON.stringify(out)) > MAX_METADATA_BYTES) {
    throw new StorageError('TooLarge', `user metadata is larger than ${MAX_METADATA_BYTES} bytes`);
  }
  return out;
}

export function decodeMetadata(stored: Record<string, string>): { user: UserMetadata; cacheControl: string | undefined } {
  const user: UserMetadata = {};
  let cacheControl: string | undefined;
  for (const [name, value] of Object.entries(stored)) {
    if (name === CACHE_CONTROL) cacheControl = value;
    else if (name.startsWith(JSON_VALUE)) user[name.slice(JSON_VALUE.length)] = parseJson(value);
    else if (!name.startsWith(RESERVED)) user[name] = value;
  }
  return { user, cacheControl };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The `x-metadata` header: base64 of a JSON object (as storage-js sends it). */
export function parseMetadataHeader(header: string | string[] | undefined): UserMetadata | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header[0] ?? '' : header;
  return parseMetadataJson(Buffer.from(text, 'base64').toString('utf8'), 'x-metadata header');
}

/** The `metadata` form field or TUS metadata entry: a JSON object. */
export function parseMetadataJson(text: string, where: string): UserMetadata {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StorageError('InvalidArgument', `${where} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StorageError('InvalidArgument', `${where} must be a JSON object`);
  return value as UserMetadata;
}

/** Supabase stores `max-age=N` when a client sends a bare number of seconds. */
export function normalizeCacheControl(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return 'no-cache';
  const value = raw.trim();
  if (/^\d+$/.test(value)) return `max-age=${value}`;
  // eslint-disable-next-line no-control-regex
  if (value.length > 256 || /[\u0000-\u001f\u007f]/.test(value)) throw new StorageError('InvalidArgument', 'cache-control is not a valid header value');
  return value;
}
