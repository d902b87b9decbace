import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3sdk } from './sdk.js';
import { createS3Client } from './client.js';
import { type S3BackendOptions, resolveS3Options } from './config.js';
import { s3ErrorName, s3Status } from './errors.js';

const { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } = s3sdk;

/** What went wrong, as one word a script can branch on. */
export type ConnectionProblem =
  | 'unreachable'
  | 'bad-access-key'
  | 'bad-secret'
  | 'no-credentials'
  | 'bucket-missing'
  | 'wrong-region'
  | 'no-list-permission'
  | 'no-write-permission'
  | 'no-read-permission'
  | 'no-delete-permission'
  | 'corrupted'
  | 'other';

export interface ConnectionCheck {
  name: 'reach' | 'list' | 'write' | 'read' | 'delete';
  ok: boolean;
  ms: number;
  detail: string;
}

export interface ConnectionReport {
  ok: boolean;
  endpoint: string;
  bucket: string;
  region: string;
  /** Absent when everything worked. */
  problem?: ConnectionProblem;
  /** One sentence for a person: what works, or what is wrong and what to change. */
  message: string;
  checks: ConnectionCheck[];
}

type Failure = { problem: ConnectionProblem; message: string };

const NETWORK = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|TimeoutError|socket hang up/;

function networkFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name, message } = e as { code?: string; name?: string; message?: string };
    if (NETWORK.test(`${code ?? ''} ${name ?? ''} ${message ?? ''}`)) return true;
  }
  return false;
}

/** The region a store says the bucket lives in, when it says so. */
function regionHint(err: unknown): string | undefined {
  const e = err as { Region?: string; $response?: { headers?: Record<string, string> } };
  return e.Region ?? e.$response?.headers?.['x-amz-bucket-region'];
}

/** Plain words for an S3 failure, given what was being tried. */
function explain(err: unknown, ctx: { bucket: string; region: string; endpoint: string; action: 'list' | 'write' | 'read' | 'delete' }): Failure {
  const name = s3ErrorName(err);
  const status = s3Status(err);
  if (networkFailure(err)) return { problem: 'unreachable', message: `cannot reach the S3 endpoint ${ctx.endpoint}: check S3_ENDPOINT_URL and that the server is running` };
  switch (name) {
    case 'InvalidAccessKeyId':
      return { problem: 'bad-access-key', message: 'the access key (AWS_ACCESS_KEY_ID) is not known to the store' };
    case 'SignatureDoesNotMatch':
      return { problem: 'bad-secret', message: 'the secret key (AWS_SECRET_ACCESS_KEY) is wrong for this access key (or the clock is off)' };
    case 'CredentialsProviderError':
      return { problem: 'no-credentials', message: 'no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' };
    case 'NoSuchBucket':
      return { problem: 'bucket-missing', message: `the bucket "${ctx.bucket}" does not exist: create it (setup) or fix S3_BUCKET_NAME` };
    case 'AuthorizationHeaderMalformed':
    case 'PermanentRedirect':
    case 'IllegalLocationConstraintException': {
      const hint = regionHint(err);
      return { problem: 'wrong-region', message: `the bucket is not in region ${ctx.region}${hint ? `; the store says ${hint}` : ''}: fix S3_REGION` };
    }
  }
  if (status === 301 || status === 307) {
    const hint = regionHint(err);
    return { problem: 'wrong-region', message: `the bucket is not in region ${ctx.region}${hint ? `; the store says ${hint}` : ''}: fix S3_REGION` };
  }
  if (name === 'AccessDenied' || status === 403) {
    const problem = `no-${ctx.action}-permission` as ConnectionProblem;
    return { problem, message: `the credentials may not ${ctx.action} in bucket "${ctx.bucket}": grant the minimal IAM policy` };
  }
  return { problem: 'other', message: `the store refused to ${ctx.action}${name ? ` (${name}${status ? `, HTTP ${status}` : ''})` : ''}` };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

/** Can we open a connection and get any HTTP answer at all? Tells "unreachable" apart from everything else. */
async function reach(url: string, timeoutMs: number): Promise<void> {
  const res = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  await res.arrayBuffer().catch(() => undefined);
}

/**
 * The guide's test_s3_connection.py: reaches the endpoint, lists the bucket, then writes,
 * reads back and deletes a small probe object (under a reserved `.bg-` name no listing
 * shows), timing each step. Stops at the first failure and says in plain words what is
 * wrong: endpoint unreachable, bad access key, bad secret, bucket missing, wrong region, or
 * a missing permission. Never prints a secret.
 */
export async function testS3Connection(opts: S3BackendOptions, probe: { segment?: string; timeoutMs?: number } = {}): Promise<ConnectionReport> {
  const resolved = resolveS3Options({ ...opts, maxAttempts: 1, connectTimeoutMs: probe.timeoutMs ?? 5000, socketTimeoutMs: probe.timeoutMs ?? 15_000 });
  const endpoint = resolved.endpoint ?? `https://s3.${resolved.region}.amazonaws.com`;
  const base = { endpoint, bucket: resolved.bucket, region: resolved.region };
  const checks: ConnectionCheck[] = [];
  const fail = (f: Failure): ConnectionReport => ({ ...base, ok: false, problem: f.problem, message: f.message, checks });
  const client: S3Client = createS3Client(resolved);
  try {
    const reached = await timed(() => reach(endpoint, probe.timeoutMs ?? 5000));
    checks.push({ name: 'reach', ok: !reached.error, ms: reached.ms, detail: reached.error ? 'no answer' : 'the endpoint answers HTTP' });
    if (reached.error) return fail({ problem: 'unreachable', message: `cannot reach the S3 endpoint ${endpoint}: check S3_ENDPOINT_URL and that the server is running` });

    const ctx = { ...base, action: 'list' as const };
    const listed = await timed(() => client.send(new ListObjectsV2Command({ Bucket: resolved.bucket, MaxKeys: 1 })));
    checks.push({ name: 'list', ok: !listed.error, ms: listed.ms, detail: listed.error ? 'refused' : 'the bucket can be listed' });
    // A listing denied by policy still proves the key, secret, bucket and region; go on to the write.
    if (listed.error) {
      const f = explain(listed.error, ctx);
      if (f.problem !== 'no-list-permission') return fail(f);
    }

    const key = `${probe.segment ?? resolved.keys.segments[0] ?? 'uploads'}/.bg-probe-${randomBytes(6).toString('hex')}`;
    const content = `bucketgate connection probe ${new Date().toISOString()}`;
    const wrote = await timed(() => client.send(new PutObjectCommand({ Bucket: resolved.bucket, Key: key, Body: content, ContentType: 'text/plain' })));
    checks.push({ name: 'write', ok: !wrote.error, ms: wrote.ms, detail: wrote.error ? 'refused' : `wrote ${content.length} bytes` });
    if (wrote.error) return fail(explain(wrote.error, { ...base, action: 'write' }));

    const read = await timed(async () => (await client.send(new GetObjectCommand({ Bucket: resolved.bucket, Key: key }))).Body?.transformToString());
    const same = read.value === content;
    checks.push({ name: 'read', ok: !read.error && same, ms: read.ms, detail: read.error ? 'refused' : same ? 'read back the same bytes' : 'read back other bytes' });
    // The probe is removed whatever the read gave.
    const removed = await timed(() => client.send(new DeleteObjectCommand({ Bucket: resolved.bucket, Key: key })));
    checks.push({ name: 'delete', ok: !removed.error, ms: removed.ms, detail: removed.error ? `refused; the probe ${key} is left behind` : 'removed the probe' });
    if (read.error) return fail(explain(read.error, { ...base, action: 'read' }));
    if (!same) return fail({ problem: 'corrupted', message: 'the store returned other bytes than were written' });
    if (removed.error) {
      const f = explain(removed.error, { ...base, action: 'delete' });
      return fail({ ...f, message: `${f.message} (the probe object ${key} is left behind)` });
    }
    const total = checks.reduce((n, c) => n + c.ms, 0);
    return { ...base, ok: true, message: `connected to bucket "${resolved.bucket}" at ${endpoint}: list, write, read and delete work (${Math.round(total)} ms)`, checks };
  } finally {
    client.destroy();
  }
}
