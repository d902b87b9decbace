import type { ObjectInfo } from '../../core/types.js';

/**
 * Supabase keeps arbitrary JSON user metadata per object (`x-metadata` on upload, `metadata`
 * in info). bucketgate keeps its string metadata there, plus the content's SHA-256 under a
 * reserved name, so `head` can return the checksum the upload measured.
 */
export const SHA256_KEY = 'bucketgate-sha256';

export function encodeUserMetadata(metadata: Record<string, string>, sha256: string | undefined): string {
  const all: Record<string, string> = { ...metadata };
  if (sha256) all[SHA256_KEY] = sha256;
  return Buffer.from(JSON.stringify(all), 'utf8').toString('base64');
}

/** Splits stored user metadata into ours (strings; other JSON values as their JSON text) and the checksum. */
export function decodeUserMetadata(raw: unknown): { metadata: Record<string, string>; sha256?: string } {
  const metadata: Record<string, string> = {};
  let sha256: string | undefined;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
      if (name === SHA256_KEY) {
        if (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)) sha256 = value;
      } else if (value !== undefined && value !== null) {
        metadata[name] = typeof value === 'string' ? value : JSON.stringify(value);
      }
    }
  }
  return sha256 === undefined ? { metadata } : { metadata, sha256 };
}

/** HTTP wants quoted entity tags; Supabase stores S3's, usually quoted already. */
export function quoteEtag(etag: unknown): string {
  const text = typeof etag === 'string' && etag !== '' ? etag : '""';
  return /^(W\/)?".*"$/.test(text) ? text : `"${text}"`;
}

/** `GET /object/info/…` */
export interface InfoJson {
  size?: number | null;
  content_type?: string | null;
  etag?: string | null;
  metadata?: unknown;
  last_modified?: string | null;
  created_at?: string | null;
}

export function infoFromJson(key: string, json: InfoJson): ObjectInfo {
  const user = decodeUserMetadata(json.metadata);
  return {
    key,
    size: Number(json.size ?? 0),
    etag: quoteEtag(json.etag),
    ...(user.sha256 ? { sha256: user.sha256 } : {}),
    contentType: json.content_type ?? 'application/octet-stream',
    lastModified: new Date(json.last_modified ?? json.created_at ?? Date.now()),
    metadata: user.metadata,
  };
}

/** A `storage.objects` row (list-v2 entries, copy answers). */
export interface ObjectRow {
  name?: string;
  updated_at?: string | null;
  created_at?: string | null;
  metadata?: { eTag?: string; size?: number; mimetype?: string; lastModified?: string } | null;
  user_metadata?: unknown;
}

export function infoFromRow(key: string, row: ObjectRow): ObjectInfo {
  const user = decodeUserMetadata(row.user_metadata);
  const m = row.metadata ?? {};
  return {
    key,
    size: Number(m.size ?? 0),
    etag: quoteEtag(m.eTag),
    ...(user.sha256 ? { sha256: user.sha256 } : {}),
    contentType: m.mimetype ?? 'application/octet-stream',
    lastModified: new Date(m.lastModified ?? row.updated_at ?? row.created_at ?? Date.now()),
    metadata: user.metadata,
  };
}
