import { StorageError } from '../../core/errors.js';
import type { PresignedRequest } from '../../core/types.js';
import { type SupabaseClient, encodeName } from './client.js';

/**
 * URLs a client uses without bucketgate: signed downloads and uploads (Supabase signs them,
 * so they work against any Storage server), public URLs of public buckets, and image
 * transformation URLs (`/render/image/…`; bucketgate's own compatible API does not transform).
 */

/** Supabase's fixed lifetime of a signed upload URL. */
export const SIGNED_UPLOAD_SECONDS = 2 * 3600;

export interface TransformOptions {
  width?: number;
  height?: number;
  resize?: 'cover' | 'contain' | 'fill';
  format?: 'origin' | 'avif' | 'webp';
  quality?: number;
}

function withDownload(url: string, download: string | boolean | undefined): string {
  if (download === undefined || download === false) return url;
  const value = download === true ? '' : download;
  return `${url}${url.includes('?') ? '&' : '?'}download=${encodeURIComponent(value)}`;
}

/** The token of a signed path Supabase answered (`/object/sign/<raw name>?token=…`; the raw name may hold `?` or `#`). */
function tokenOf(signedPath: string | undefined, what: string): string {
  const token = /[?&]token=([A-Za-z0-9_\-.]+)$/.exec(signedPath ?? '')?.[1];
  if (!token) throw new StorageError('BackendUnavailable', `Supabase ${what}: no token in the answer`);
  return token;
}

export async function signedDownloadUrl(client: SupabaseClient, bucket: string, key: string, expiresIn: number, opts: { download?: string | boolean } = {}): Promise<PresignedRequest> {
  const path = `/object/sign/${encodeName(bucket)}/${encodeName(key)}`;
  const answer = await client.json<{ signedURL?: string }>('POST', path, 'sign', { json: { expiresIn } });
  const url = `${client.url(path)}?token=${tokenOf(answer.signedURL, 'sign')}`;
  return { method: 'GET', url: withDownload(url, opts.download), headers: {}, expiresAt: new Date(Date.now() + expiresIn * 1000) };
}

export async function signedUploadUrl(
  client: SupabaseClient,
  bucket: string,
  key: string,
  opts: { upsert?: boolean; contentType?: string } = {},
): Promise<PresignedRequest & { token: string }> {
  const path = `/object/upload/sign/${encodeName(bucket)}/${encodeName(key)}`;
  const answer = await client.json<{ url?: string; token?: string }>('POST', path, 'sign upload', {
    headers: opts.upsert ? { 'x-upsert': 'true' } : {},
    json: {},
  });
  const token = answer.token ?? tokenOf(answer.url, 'sign upload');
  const url = `${client.url(path)}?token=${token}`;
  return {
    method: 'PUT',
    url,
    headers: { 'content-type': opts.contentType ?? 'application/octet-stream' },
    expiresAt: new Date(Date.now() + SIGNED_UPLOAD_SECONDS * 1000),
    token,
  };
}

export function publicUrl(client: SupabaseClient, bucket: string, key: string, opts: { download?: string | boolean } = {}): string {
  return withDownload(client.url(`/object/public/${encodeName(bucket)}/${encodeName(key)}`), opts.download);
}

/** `/render/image/public/…` (or `authenticated`) with the transformation as query parameters, as storage-js builds it. */
export function imageUrl(client: SupabaseClient, bucket: string, key: string, transform: TransformOptions, opts: { access?: 'public' | 'authenticated' } = {}): string {
  const query = new URLSearchParams();
  if (transform.width) query.set('width', String(transform.width));
  if (transform.height) query.set('height', String(transform.height));
  if (transform.resize) query.set('resize', transform.resize);
  if (transform.format) query.set('format', transform.format);
  if (transform.quality) query.set('quality', String(transform.quality));
  const qs = query.toString();
  return client.url(`/render/image/${opts.access ?? 'public'}/${encodeName(bucket)}/${encodeName(key)}`) + (qs ? `?${qs}` : '');
}
