import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import type { ServiceHandle } from './service.js';

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
export const auth = (token: string) => ({ authorization: `Bearer ${token}` });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test bodies are checked field by field
export async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
}

/** Asks for an upload URL; returns the parsed grant. */
export async function grant(h: ServiceHandle, q: Record<string, string | number>, token = h.serviceToken) {
  const qs = new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${h.url}/cdn/upload-url?${qs}`, { headers: auth(token) });
  if (res.status !== 200) throw new Error(`upload-url ${res.status}: ${await res.text()}`);
  return json(res);
}

/** Token flow end to end with a raw body. */
export async function upload(h: ServiceHandle, segment: string, filename: string, body: Buffer | string, contentType = 'application/octet-stream', token = h.serviceToken) {
  const g = await grant(h, { segment, filename, contentType }, token);
  const res = await fetch(g.uploadUrl, { method: 'POST', body, headers: { 'content-type': contentType } });
  if (res.status !== 201) throw new Error(`upload ${res.status}: ${await res.text()}`);
  return json(res);
}

/** What the store holds: catalog stats plus every key and ETag the backend lists. */
export async function snapshot(h: ServiceHandle): Promise<string> {
  const stats = await h.storage.catalog.stats();
  const keys: string[] = [];
  for (const segment of h.storage.keys.segments) {
    let cursor: string | undefined;
    do {
      const page = await h.storage.backend.list(`${segment}/`, { cursor, limit: 1000 });
      keys.push(...page.objects.map((o) => `${o.key} ${o.etag} ${o.size}`));
      cursor = page.cursor;
    } while (cursor);
  }
  return JSON.stringify({ stats, keys });
}

/** Sends raw bytes over a socket and returns what came back before the server closed (or the timeout). */
export function rawRequest(url: string, payload: string | Buffer, opts: { keepOpenMs?: number; timeoutMs?: number } = {}): Promise<{ response: string; closedByServer: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let response = '';
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ response, closedByServer });
    };
    socket.on('data', (d) => (response += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(payload);
    setTimeout(() => finish(false), opts.timeoutMs ?? 5000);
  });
}
