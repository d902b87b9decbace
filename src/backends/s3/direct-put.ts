import { createHash, createHmac } from 'node:crypto';
import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { clientAgents } from './client.js';
import type { S3Context } from './context.js';
import { fromS3Error } from './errors.js';

/**
 * PutObject of a body already in memory, signed with the SDK's own SigV4 signer and sent on the
 * client's keep-alive agents, beside the SDK's command pipeline rather than through it. Why:
 * that pipeline (endpoint rules, schema serialisation, retry and auth middleware, per-command
 * handler resolution) made 1,000 PutObjects from a bare script cost ~2.0 s of CPU here, against
 * ~0.65 s signed and sent this way; for many small objects — `migrate` of 1,000 × 64 KiB,
 * small uploads through the service — it was most of the CPU (docs/s3.md). Everything else keeps using the SDK.
 *
 * What the SDK would have decided is still the SDK's: the URL and signing region come from its
 * endpoint rules (resolved once per backend), credentials from the client's provider chain.
 * Failures are shaped like the SDK's errors, so fromS3Error maps them the same way, and
 * transient ones (network, 5xx, throttling) are retried up to the backend's `maxAttempts` with jittered
 * exponential backoff, as the SDK's standard retry does.
 */
export interface DirectPutRequest {
  key: string;
  body: Buffer;
  /** Hex SHA-256 of `body`: it signs the payload, so the store refuses other bytes. */
  sha256: string;
  /** Lower-case header names → values: content type, metadata, conditions, encryption. */
  headers: Record<string, string>;
  signal?: AbortSignal;
  createOnly?: boolean;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** Node's hash and HMAC in the shape the signer takes (`new Sha256(secret?)`). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

interface Target {
  /** The bucket's base URL, path included (`http://host:9000/bucket` or `https://bucket.s3.region.amazonaws.com/`). */
  base: URL;
  /** The host to connect to: an IPv6 address without its brackets. */
  hostname: string;
  signer: SignatureV4;
}

interface AuthScheme {
  name?: string;
  signingName?: string;
  signingRegion?: string;
}

/** Per client: where its PutObjects go, or null where plain SigV4 does not apply (S3 Express buckets). */
const targets = new WeakMap<S3Client, Promise<Target | null>>();

async function resolveTarget(ctx: S3Context): Promise<Target | null> {
  const { opts, client } = ctx;
  const endpoint = client.config.endpointProvider({
    Bucket: ctx.bucket,
    Region: opts.region,
    UseFIPS: await client.config.useFipsEndpoint(),
    UseDualStack: await client.config.useDualstackEndpoint(),
    ForcePathStyle: opts.forcePathStyle,
    Accelerate: false,
    ...(opts.endpoint ? { Endpoint: opts.endpoint } : {}),
  });
  const scheme = (endpoint.properties?.authSchemes as AuthScheme[] | undefined)?.[0];
  if (scheme && scheme.name !== 'sigv4') return null;
  const base = new URL(endpoint.url.href);
  return {
    base,
    hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
    signer: new SignatureV4({
      credentials: () => client.config.credentials(),
      region: scheme?.signingRegion ?? opts.region,
      service: scheme?.signingName ?? 's3',
      sha256: NodeSha256,
      uriEscapePath: false,
    }),
  };
}

function targetOf(ctx: S3Context): Promise<Target | null> {
  let target = targets.get(ctx.client);
  if (!target) {
    target = resolveTarget(ctx);
    targets.set(ctx.client, target);
    target.catch(() => targets.delete(ctx.client)); // a failed resolution is tried again next time
  }
  return target;
}

/** Whether this backend's single PutObjects can go directly (plain SigV4), else through the SDK. */
export async function canPutDirectly(ctx: S3Context): Promise<boolean> {
  return (await targetOf(ctx)) !== null;
}

/** A key as a URL path: each part percent-encoded as the SDK does (RFC 3986, `!'()*` too). */
function keyPath(key: string): string {
  return key
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/** An error shaped like the SDK's service exceptions: `name`/`Code`, `$fault`, `$metadata`. */
function serviceError(status: number, body: string, requestId: string | undefined): Error {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1];
  const err = new Error(`S3 answered ${status}${code ? ` ${code}` : ''}`) as Error & Record<string, unknown>;
  if (code) {
    err.name = code;
    err.Code = code;
  } else err.name = `HTTP${status}`;
  err.$fault = status >= 500 ? 'server' : 'client';
  err.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  return err;
}

function timeoutError(what: string): Error {
  const err = new Error(`${what} timed out`);
  err.name = 'TimeoutError';
  return err;
}

/** One attempt: the ETag the store answered with, or a failure shaped like the SDK's. */
async function sendOnce(ctx: S3Context, target: Target, req: DirectPutRequest): Promise<string | undefined> {
  const { base } = target;
  const path = `${base.pathname.replace(/\/$/, '')}/${keyPath(req.key)}`;
  const request = {
    method: 'PUT',
    protocol: base.protocol,
    hostname: target.hostname,
    ...(base.port ? { port: Number(base.port) } : {}),
    path,
    query: {},
    headers: {
      ...req.headers,
      host: base.host,
      'content-length': String(req.body.length),
      'x-amz-content-sha256': req.sha256,
    },
  };
  // The clock offset the SDK learnt from the store's answers (RequestTimeTooSkewed), if any.
  const signed = await target.signer.sign(request, { signingDate: new Date(Date.now() + (ctx.client.config.systemClockOffset ?? 0)) });
  const agents = clientAgents(ctx.client);
  const https = base.protocol === 'https:';
  return new Promise<string | undefined>((resolve, reject) => {
    let connectTimer: NodeJS.Timeout | undefined;
    const fail = (err: Error) => {
      clearTimeout(connectTimer);
      reject(err);
    };
    const options = {
      method: 'PUT',
      hostname: target.hostname,
      ...(base.port ? { port: Number(base.port) } : {}),
      path,
      headers: signed.headers,
      ...(req.signal ? { signal: req.signal } : {}),
    };
    const onResponse = (res: IncomingMessage) => {
      const requestId = res.headers['x-amz-request-id'];
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        res.resume();
        res.on('end', () => resolve(res.headers.etag));
        res.on('error', fail);
        return;
      }
      // An error body is a short XML document; more than 64 KiB is not read.
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < 65536) text += chunk;
      });
      res.on('end', () => fail(serviceError(status, text, typeof requestId === 'string' ? requestId : undefined)));
      res.on('error', fail);
    };
    const sent: ClientRequest = https
      ? httpsRequest({ ...options, ...(agents ? { agent: agents.https } : {}) }, onResponse)
      : httpRequest({ ...options, ...(agents ? { agent: agents.http } : {}) }, onResponse);
    sent.on('error', fail);
    // As the SDK's handler: a limit on connecting, and on a socket that goes silent.
    sent.setTimeout(ctx.opts.socketTimeoutMs, () => sent.destroy(timeoutError('S3 request')));
    sent.on('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => sent.destroy(timeoutError('connecting to S3')), ctx.opts.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    sent.end(req.body);
  });
}

/**
 * Stores `req.body` at `req.key` in one PutObject; the store's ETag, if it sent one. Only for
 * backends where canPutDirectly holds.
 */
export async function directPut(ctx: S3Context, req: DirectPutRequest): Promise<string | undefined> {
  const mapping = { op: 'put', subject: req.key, bucket: ctx.bucket, createOnly: req.createOnly };
  for (let attempt = 1; ; attempt++) {
    try {
      const target = await targetOf(ctx);
      if (!target) throw new Error('directPut: this bucket needs the SDK (canPutDirectly is false)');
      return await sendOnce(ctx, target, req);
    } catch (err) {
      // An abort that lands while the answer streams in shows as a reset socket: it is an abort.
      const mapped = fromS3Error(req.signal?.aborted ? Object.assign(new Error('aborted'), { name: 'AbortError' }) : err, mapping);
      const retry = mapped.code === 'BackendUnavailable' && attempt < ctx.opts.maxAttempts && !req.signal?.aborted;
      if (!retry) throw mapped;
      // Full jitter over 100 ms × 2^attempt, capped at 20 s (the SDK's standard retry); an abort ends the wait.
      await sleep(Math.random() * Math.min(20_000, 100 * 2 ** attempt), undefined, req.signal ? { signal: req.signal } : {}).catch((err: unknown) => {
        throw fromS3Error(err, mapping);
      });
    }
  }
}
