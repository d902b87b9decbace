import { StorageError } from '../../core/errors.js';
import { errorFromResponse, networkError } from './errors.js';

/**
 * The one place that talks HTTP to the Storage API: adds the key (as `apikey` and bearer token,
 * as supabase-js does), bounds calls that carry no stream by a timeout, and turns every failure
 * into a StorageError. The key never appears in an error message.
 */
export interface SendOptions {
  headers?: Record<string, string>;
  json?: unknown;
  body?: Uint8Array;
  signal?: AbortSignal;
  /** A streamed download: no overall timeout, the caller reads the body. */
  stream?: boolean;
}

export class SupabaseClient {
  constructor(
    readonly base: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  get authHeaders(): Record<string, string> {
    return { apikey: this.token, authorization: `Bearer ${this.token}` };
  }

  url(path: string): string {
    return /^https?:\/\//.test(path) ? path : `${this.base}${path}`;
  }

  /** Sends the request; any status outside 2xx (and 304) becomes the matching StorageError. */
  async send(method: string, path: string, what: string, opts: SendOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...this.authHeaders, ...opts.headers };
    let body: Uint8Array | string | undefined = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    const signals = [opts.signal, opts.stream ? undefined : AbortSignal.timeout(this.timeoutMs)].filter((s): s is AbortSignal => s !== undefined);
    let res: Response;
    try {
      res = await fetch(this.url(path), { method, headers, body, signal: signals.length ? AbortSignal.any(signals) : undefined });
    } catch (err) {
      if (opts.signal?.aborted) throw new StorageError('InvalidArgument', `${what} was aborted`, { cause: err });
      throw networkError(err, what);
    }
    if (res.ok || res.status === 304) return res;
    throw await errorFromResponse(res, what);
  }

  async json<T>(method: string, path: string, what: string, opts: SendOptions = {}): Promise<T> {
    const res = await this.send(method, path, what, opts);
    try {
      return (await res.json()) as T;
    } catch (err) {
      throw new StorageError('BackendUnavailable', `Supabase ${what}: the answer is not JSON`, { cause: err });
    }
  }
}

/** An object name as a URL path: each part percent-encoded, the slashes kept. */
export function encodeName(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}
