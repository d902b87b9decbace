import type { ListPage, Performance, Stats, Status, StoredObject, UploadGrant } from './types.js';

/** A failed call, with the service's own error code and message (`{ error: { code, message } }`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads either error shape the service answers with: its own, or the Supabase-compatible one. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let code = `HTTP${response.status}`;
  let message = response.statusText || `request failed with status ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } | string; message?: string; code?: string };
    if (body.error && typeof body.error === 'object') {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
    } else if (typeof body.message === 'string') {
      code = body.code ?? (typeof body.error === 'string' ? body.error : code);
      message = body.message;
    }
  } catch {
    // Not JSON (a proxy's page, a cut connection): keep the status line.
  }
  return new ApiError(response.status, code, message);
}

/** How long links made for previews and "copy link" stay valid. */
export const PREVIEW_LINK_SECONDS = 3600;

/**
 * The service's HTTP API as the dashboard uses it. Every call carries the session's bearer
 * token; a 401 `Unauthenticated` (expired or revoked token) is reported once through
 * `onSignedOut` so the app can return to the sign-in screen.
 */
export class Api {
  constructor(
    private readonly token: string | null,
    private readonly onSignedOut: (message: string) => void = () => {},
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}`, ...extra } : extra;
  }

  async request(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(path, { ...init, headers: this.headers(init.headers), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'NetworkError', 'the service did not answer (is it running?)');
    }
    if (response.ok) return response;
    const error = await errorFrom(response);
    if (response.status === 401 && this.token && (error.code === 'Unauthenticated' || error.code === 'InvalidJWT')) this.onSignedOut(error.message);
    throw error;
  }

  private async json<T>(path: string, init?: RequestInit & { headers?: Record<string, string> }): Promise<T> {
    return (await (await this.request(path, init)).json()) as T;
  }

  status(): Promise<Status> {
    return this.json('/storage/status');
  }

  stats(): Promise<Stats> {
    return this.json('/bucket/stats');
  }

  performance(): Promise<Performance> {
    return this.json('/observability/performance');
  }

  list(segment: string, opts: { prefix?: string; cursor?: string; limit?: number }): Promise<ListPage> {
    const query = new URLSearchParams({ segment });
    if (opts.prefix) query.set('prefix', opts.prefix);
    if (opts.cursor) query.set('cursor', opts.cursor);
    if (opts.limit) query.set('limit', String(opts.limit));
    return this.json(`/cdn/list?${query}`);
  }

  uploadGrant(segment: string, filename: string, contentType: string, size: number): Promise<UploadGrant> {
    const query = new URLSearchParams({ segment, filename, size: String(size) });
    if (contentType) query.set('contentType', contentType);
    return this.json(`/cdn/upload-url?${query}`);
  }

  /** Where the bytes of a grant go: this origin (the grant's absolute URL may name another host). */
  uploadPath(grant: UploadGrant): string {
    return `/cdn/upload/${encodeURIComponent(grant.token)}`;
  }

  async remove(id: string): Promise<void> {
    await this.request(`/cdn/files/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** The start of an object as text (at most `maxBytes`), through a ranged read. */
  async text(item: StoredObject, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
    if (item.size === 0) return { text: '', truncated: false };
    const response = await this.request(`/cdn/stream/${encodeURIComponent(item.id)}`, { headers: { range: `bytes=0-${maxBytes - 1}` } });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { text: new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, maxBytes)), truncated: item.size > maxBytes };
  }

  /**
   * A signed link to one object (`POST /cdn/sign`): `/cdn/stream/{id}` or `/cdn/download/{id}`
   * with `expires` and `signature`, readable by whoever holds it until it expires, no token
   * needed. Media elements and shared links can't send an Authorization header; this needs none,
   * and unlike a bearer token in a URL it opens this one object only, for reading.
   */
  async signedUrl(item: StoredObject, expiresIn: number, mode: 'stream' | 'download'): Promise<string> {
    const link = await this.json<{ url: string }>('/cdn/sign', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: item.id, expiresIn, mode }),
    });
    // The service names itself by PUBLIC_URL; the browser reached it here, so keep path and query only.
    const url = new URL(link.url, location.origin);
    return new URL(url.pathname + url.search, location.origin).href;
  }
}

/** Public segments are read without credentials; private ones through a signed link. */
export async function mediaUrl(api: Api, item: StoredObject, segmentIsPublic: boolean): Promise<string> {
  return segmentIsPublic ? `/cdn/stream/${encodeURIComponent(item.id)}` : api.signedUrl(item, PREVIEW_LINK_SECONDS, 'stream');
}

export async function downloadUrl(api: Api, item: StoredObject, segmentIsPublic: boolean): Promise<string> {
  return segmentIsPublic ? `/cdn/download/${encodeURIComponent(item.id)}` : api.signedUrl(item, PREVIEW_LINK_SECONDS, 'download');
}

/** A link to share: the permanent download URL of a public object, or a signed one that expires. */
export async function shareUrl(api: Api, item: StoredObject, segmentIsPublic: boolean, expiresIn: number): Promise<string> {
  return segmentIsPublic ? new URL(`/cdn/download/${encodeURIComponent(item.id)}`, location.origin).href : api.signedUrl(item, expiresIn, 'download');
}
