import { expect } from 'vitest';
import { rawRequest } from '../support/http.js';
import type { ServiceHandle } from '../support/service.js';

/**
 * What the store holds, as precisely as the hostile-input suite needs it: every catalog row
 * (key, size, ETag, type, owner, update time), the catalog's statistics and every object the
 * backend lists. Two equal snapshots: a refused request changed nothing anywhere.
 */
export async function storeSnapshot(h: ServiceHandle): Promise<string> {
  const rows: string[] = [];
  const objects: string[] = [];
  for (const segment of h.storage.keys.segments) {
    let cursor: string | undefined;
    do {
      const page = await h.storage.catalog.list({ segment, cursor, limit: 1000 });
      rows.push(...page.items.map((r) => [r.key, r.size, r.etag, r.contentType, r.owner, r.updatedAt.toISOString()].join(' ')));
      cursor = page.cursor;
    } while (cursor);
    do {
      const page = await h.storage.backend.list(`${segment}/`, { cursor, limit: 1000 });
      objects.push(...page.objects.map((o) => `${o.key} ${o.etag} ${o.size}`));
      cursor = page.cursor;
    } while (cursor);
  }
  return JSON.stringify({ stats: await h.storage.catalog.stats(), rows, objects }, null, 1);
}

/** The error code of either body shape: bucketgate's `{ error: { code } }` or Supabase's `{ statusCode, code }`. */
export function errorCodeOf(body: unknown): string | undefined {
  const b = body as { error?: { code?: string }; code?: string } | null;
  return b?.error?.code ?? b?.code;
}

export interface Refusal {
  status: number;
  code: string;
}

/** A request sent by fetch; its answer must be the refusal, and the store unchanged. */
export async function expectRefused(h: ServiceHandle, send: () => Promise<Response>, want: Refusal): Promise<void> {
  const before = await storeSnapshot(h);
  const res = await send();
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`answer is not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
  expect({ status: res.status, code: errorCodeOf(body) }, text.slice(0, 300)).toEqual(want);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(await storeSnapshot(h)).toBe(before);
}

/** Raw bytes over a socket (for what fetch refuses to send); the status line and JSON code must match. */
export async function expectRawRefused(h: ServiceHandle, payload: string | Buffer, want: Refusal | { closed: true }, opts: { timeoutMs?: number } = {}): Promise<void> {
  const before = await storeSnapshot(h);
  const { response, closedByServer } = await rawRequest(h.url, payload, { timeoutMs: opts.timeoutMs ?? 5000 });
  if ('closed' in want) {
    expect(closedByServer).toBe(true);
  } else {
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
    const json = response.slice(response.indexOf('\r\n\r\n') + 4);
    let code: string | undefined;
    try {
      code = errorCodeOf(JSON.parse(json.replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '')));
    } catch {
      code = undefined;
    }
    expect({ status, code }, response.slice(0, 300)).toEqual(want);
    expect(response.toLowerCase()).toContain('x-content-type-options: nosniff');
  }
  expect(await storeSnapshot(h)).toBe(before);
}
