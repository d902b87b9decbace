/**
 * The one HTTP client every HTTP benchmark uses, against nginx and against our service
 * alike, so a ratio compares servers, not clients. A fresh connection per transfer (as curl
 * does); uploads stream a file through node:http, downloads are counted off a raw socket and
 * discarded; nothing is buffered whole.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type IncomingMessage, type OutgoingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { ResponseCounter } from './response-counter.js';

const CHUNK = 1 << 20;
/** Shared by every download: the bytes are only counted, never kept, so one buffer serves all. */
const readBuffer = Buffer.allocUnsafe(CHUNK);

export interface TransferResult {
  status: number;
  /** Body bytes sent (upload) or received (download). */
  bytes: number;
  /** From sending the request to the last byte of the answer. */
  seconds: number;
  /** The answer's body for an upload (small: JSON or nothing); for a download, only an error's body. */
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface TransferOptions {
  headers?: OutgoingHttpHeaders;
  /** Fail unless the status is one of these (default any 2xx). */
  expect?: (status: number) => boolean;
}

const ok2xx = (status: number) => status >= 200 && status < 300;

function check(method: string, url: string, res: TransferResult, opts: TransferOptions): TransferResult {
  if (!(opts.expect ?? ok2xx)(res.status)) throw new Error(`${method} ${url} answered ${res.status}: ${res.text.slice(0, 300)}`);
  return res;
}

async function readText(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) if (text.length < 64 * 1024) text += (chunk as Buffer).toString('utf8');
  return text;
}

/** Streams a file as the request body (PUT by default, POST for our upload tokens) with its Content-Length. */
export async function uploadFile(url: string, path: string, opts: TransferOptions & { method?: 'PUT' | 'POST' } = {}): Promise<TransferResult> {
  const method = opts.method ?? 'PUT';
  const { size } = await stat(path);
  const started = process.hrtime.bigint();
  const req = request(url, {
    method,
    agent: false,
    headers: { 'content-type': 'application/octet-stream', ...opts.headers, 'content-length': size },
  });
  const answer = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  // A server may answer (413, 401) before taking the whole body; the answer is what counts then.
  const sent = pipeline(createReadStream(path, { highWaterMark: CHUNK }), req).catch(() => undefined);
  const res = await answer;
  const text = await readText(res);
  await sent;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return check(method, url, { status: res.statusCode ?? 0, bytes: size, seconds, text, headers: res.headers }, opts);
}

/**
 * GETs `url` and counts the body's bytes. Over a raw socket reading into one reused 1 MiB
 * buffer (net's `onread`), not node:http: measured here against nginx, node:http reached
 * 0.35-0.9x curl's speed and this 1.5-1.9x, so the client never caps a server's figure.
 */
export function download(url: string, opts: TransferOptions = {}): Promise<TransferResult> {
  const target = new URL(url);
  if (target.protocol !== 'http:') throw new Error(`download: only http:// URLs (${url})`);
  const headers: OutgoingHttpHeaders = { host: target.host, ...opts.headers, connection: 'close' };
  const head = [`GET ${target.pathname}${target.search} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${String(v)}`), '', ''].join('\r\n');
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const counter = new ResponseCounter();
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const result = { status: counter.status, bytes: counter.bytes, seconds, text: counter.text, headers: counter.headers };
      try {
        resolve(check('GET', url, result, opts));
      } catch (checkErr) {
        reject(checkErr instanceof Error ? checkErr : new Error(String(checkErr)));
      }
    };
    const socket = connect({
      host: target.hostname,
      port: Number(target.port || 80),
      onread: {
        buffer: readBuffer,
        callback: (length: number, buffer: Uint8Array) => {
          try {
            counter.push(Buffer.from(buffer.buffer, buffer.byteOffset, length));
            if (counter.done) finish();
          } catch (err) {
            finish(err);
          }
          return !settled;
        },
      },
    });
    socket.once('connect', () => socket.write(head));
    socket.once('end', () => {
      try {
        counter.end();
        finish();
      } catch (err) {
        finish(err);
      }
    });
    socket.once('error', finish);
  });
}
