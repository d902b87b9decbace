import { StorageError } from '../../core/errors.js';
import { etagFromSha256 } from '../../core/streams.js';
import type { ObjectInfo } from '../../core/types.js';

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** Our own entries in the object's user metadata (`x-amz-meta-bg-…`), never shown as the caller's. */
const INTERNAL_PREFIX = 'bg-';
/** Our SHA-256 of the content, as a user-metadata name. */
export const SHA_METADATA = 'bg-sha256';
const SHA256 = SHA_METADATA;
/** The marker of the presigned upload that stored the object (PresignOptions.grant). */
export const GRANT_METADATA = 'bg-grant';
/** Caller entries that cannot travel as plain headers, JSON + percent-encoded. */
const ENCODED = 'bg-meta';

/** A metadata name S3 keeps as it is: a lowercase HTTP token (S3 lowercases names). */
const PLAIN_NAME = /^[a-z0-9][a-z0-9_.-]*$/;
/** A value that survives an HTTP header unchanged: printable ASCII, no edge spaces. */
const PLAIN_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;

export function checkMetadata(metadata: unknown): Record<string, string> {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new StorageError('InvalidArgument', 'metadata must be an object of strings');
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new StorageError('InvalidArgument', `metadata ${JSON.stringify(name)} must be a string`);
    if (name === '' || name === '__proto__') throw new StorageError('InvalidArgument', `metadata name ${JSON.stringify(name)} is not allowed`);
    out[name] = value;
  }
  return out;
}

/**
 * The caller's metadata as S3 user metadata, plus our SHA-256. Names and values that S3
 * would alter (upper case, non-ASCII, our own `bg-` prefix) travel JSON-encoded in one entry,
 * so every entry round-trips exactly while plain ones stay readable to other S3 tools.
 */
export function encodeMetadata(metadata: Record<string, string>, sha256: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const odd: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) {
    if (PLAIN_NAME.test(name) && !name.startsWith(INTERNAL_PREFIX) && PLAIN_VALUE.test(value)) out[name] = value;
    else odd[name] = value;
  }
  if (Object.keys(odd).length > 0) out[ENCODED] = encodeURIComponent(JSON.stringify(odd));
  if (sha256 !== undefined) out[SHA256] = sha256;
  return out;
}

export interface DecodedMetadata {
  metadata: Record<string, string>;
  sha256: string | undefined;
  grant: string | undefined;
}

export function decodeMetadata(raw: Record<string, string> | undefined): DecodedMetadata {
  const metadata: Record<string, string> = {};
  let sha256: string | undefined;
  let grant: string | undefined;
  for (const [rawName, value] of Object.entries(raw ?? {})) {
    const name = rawName.toLowerCase();
    if (name === SHA256) {
      if (/^[0-9a-f]{64}$/.test(value)) sha256 = value;
    } else if (name === GRANT_METADATA) {
      grant = value;
    } else if (name === ENCODED) {
      try {
        const parsed: unknown = JSON.parse(decodeURIComponent(value));
        if (parsed && typeof parsed === 'object') {
          for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') metadata[k] = v;
        }
      } catch {
        // Not ours after all: keep it as the store has it.
        metadata[name] = value;
      }
    } else if (!name.startsWith(INTERNAL_PREFIX)) {
      metadata[name] = value;
    }
  }
  return { metadata, sha256, grant };
}

/** What HEAD and GET answer about an object, in the SDK's shape. */
export interface S3ObjectFacts {
  ContentLength?: number | undefined;
  ContentType?: string | undefined;
  ETag?: string | undefined;
  LastModified?: Date | undefined;
  Metadata?: Record<string, string> | undefined;
}

/** Our ETag: from the stored SHA-256 when there is one (as every backend does), else the store's own. */
export function etagOf(sha256: string | undefined, s3Etag: string | undefined): string {
  if (sha256 !== undefined) return etagFromSha256(sha256);
  if (!s3Etag) return '""';
  return s3Etag.startsWith('"') || s3Etag.startsWith('W/') ? s3Etag : `"${s3Etag}"`;
}

export function objectInfoFrom(key: string, facts: S3ObjectFacts, size: number): ObjectInfo {
  const { metadata, sha256, grant } = decodeMetadata(facts.Metadata);
  const info: ObjectInfo = {
    key,
    size,
    etag: etagOf(sha256, facts.ETag),
    contentType: facts.ContentType || DEFAULT_CONTENT_TYPE,
    lastModified: facts.LastModified ?? new Date(0),
    metadata,
  };
  if (sha256 !== undefined) info.sha256 = sha256;
  if (grant !== undefined) info.grant = grant;
  return info;
}
