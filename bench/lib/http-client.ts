/**
 * The one HTTP client every HTTP benchmark uses, against nginx and against our service
 * alike, so a ratio compares servers, not clients. A fresh connection per transfer (as curl
 * does); uploads are sent from a raw socket, downloads are counted off one and discarded;
 * nothing is buffered whole.
 */
import { open, stat } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { type Socket, connect } from 'node:net';
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

/** One request over a fresh raw socket, its answer parsed as it arrives (ResponseCounter). */
interface Exchange {
  method: string;
  url: string;
  headers: OutgoingHttpHeaders;
  /** Where the socket reads the answer into (reused: only headers and kept text are copied). */
  readInto: Buffer;
  /** Keep the answer's body in `text` even when it is a 2xx (an upload's JSON). */
  keepBody?: boolean;
  /** Writes the request body after the head; `settled()` turns true once the answer is in. */
  sendBody?: (socket: Socket, settled: () => boolean) => Promise<void>;
  /** Bytes to report: the body sent (upload); by default the body received. */
  sentBytes?: number;
}

function exchange(x: Exchange, opts: TransferOptions): Promise<TransferResult> {
  const target = new URL(x.url);
  if (target.protocol !== 'http:') throw new Error(`${x.method} ${x.url}: only http:// URLs`);
  const headers: OutgoingHttpHeaders = { host: target.host, ...x.headers, connection: 'close' };
  const head = [`${x.method} ${target.pathname}${target.search} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${String(v)}`), '', ''].join('\r\n');
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const counter = new ResponseCounter(x.keepBody);
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const result = { status: counter.status, bytes: x.sentBytes ?? counter.bytes, seconds, text: counter.text, headers: counter.headers };
      try {
        resolve(check(x.method, x.url, result, opts));
      } catch (checkErr) {
        reject(checkErr instanceof Error ? checkErr : new Error(String(checkErr)));
      }
    };
    const socket = connect({
      host: target.hostname,
      port: Number(target.port || 80),
      onread: {
        buffer: x.readInto,
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
    socket.once('connect', () => {
      socket.write(head);
      x.sendBody?.(socket, () => settled).catch(finish);
    });
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

/**
 * Streams a file as the request body (PUT by default, POST for our upload tokens) with its
 * Content-Length, over a raw socket: the file is read into two alternating 1 MiB buffers, each
 * reused once the socket has taken it. On two cores the client's CPU is taken from the server
 * under test: through node:http's client (as until 2026-12-06) a 100 MiB upload to nginx took
 * 112 ms against 71 ms this way, and to the service 221 ms against 187 ms — the old client hid
 * most of the gap between the two.
 */
export async function uploadFile(url: string, path: string, opts: TransferOptions & { method?: 'PUT' | 'POST' } = {}): Promise<TransferResult> {
  const { size } = await stat(path);
  const fh = await open(path, 'r');
  // A server may answer (413, 401) before taking the whole body; the answer is what counts then.
  const sendBody = async (socket: Socket, settled: () => boolean) => {
    const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    const written: (Promise<void> | undefined)[] = [undefined, undefined];
    for (let position = 0, i = 0; position < size && !settled(); i ^= 1) {
      await written[i];
      const { bytesRead } = await fh.read(buffers[i]!, 0, Math.min(CHUNK, size - position), position);
      if (bytesRead === 0) throw new Error(`${path} shrank while it was sent`);
      position += bytesRead;
      written[i] = new Promise((done) => socket.write(buffers[i]!.subarray(0, bytesRead), () => done()));
    }
  };
  try {
    const headers = { 'content-type': 'application/octet-stream', ...opts.headers, 'content-length': size };
    return await exchange({ method: opts.method ?? 'PUT', url, headers, readInto: Buffer.allocUnsafe(64 * 1024), keepBody: true, sendBody, sentBytes: size }, opts);
  } finally {
    await fh.close(); // waits for a read still in flight
  }
}

/**
 * GETs `url` and counts the body's bytes. Over a raw socket reading into one reused 1 MiB
 * buffer (net's `onread`), not node:http: measured here against nginx, node:http reached
 * 0.35-0.9x curl's speed and this 1.5-1.9x, so the client never caps a server's figure.
 */
export function download(url: string, opts: TransferOptions = {}): Promise<TransferResult> {
  return exchange({ method: 'GET', url, headers: { ...opts.headers }, readInto: readBuffer }, opts);
}
