import { randomUUID } from 'node:crypto';
import { type StorageError, isStorageError } from '../../core/errors.js';
import { type SupabaseClient, encodeName } from './client.js';
import { supabaseClient } from './connect.js';
import type { SupabaseBackendOptions } from './options.js';

/**
 * The guide's `test_supabase_simple.py` / `verify_supabase_connection.py`: four checks, each
 * answered in plain words — the server is reachable, the key is accepted, the bucket exists,
 * and the bucket's policies let this key write (a small probe file is written and removed).
 * A check that cannot run because an earlier one failed says so.
 */
export type CheckName = 'reachable' | 'key' | 'bucket' | 'write';

export interface ConnectionCheck {
  check: CheckName;
  ok: boolean;
  message: string;
}

export interface ConnectionReport {
  ok: boolean;
  checks: ConnectionCheck[];
}

/** The `role` claim of a JWT key, read without verifying it (only to word the advice). */
function roleOf(token: string | undefined): string | undefined {
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { role?: string }).role;
  } catch {
    return undefined;
  }
}

/** A concrete type the bucket accepts, for the probe file. */
function probeType(allowed: string[] | null | undefined): string {
  const first = allowed?.find((t) => t.trim() !== '');
  if (!first) return 'text/plain';
  return first.endsWith('/*') ? `${first.slice(0, -2)}/x-bucketgate-probe` : first;
}

export async function testSupabaseConnection(opts: SupabaseBackendOptions): Promise<ConnectionReport> {
  const checks: ConnectionCheck[] = [];
  const done = () => ({ ok: checks.every((c) => c.ok) && checks.length === 4, checks });
  const skip = (from: CheckName[], reason: string) => {
    for (const check of from) checks.push({ check, ok: false, message: `Not checked: ${reason}.` });
    return done();
  };
  const client = supabaseClient(opts);
  const role = roleOf(opts.serviceRoleKey ?? opts.key);
  const host = new URL(opts.url).host;
  const bucketPath = `/bucket/${encodeName(opts.bucket)}`;

  // 1 and 2: one request tells whether the server answers, and whether it takes the key.
  let bucket: { public?: boolean; file_size_limit?: number | null; allowed_mime_types?: string[] | null } | undefined;
  const started = performance.now();
  try {
    bucket = await client.json('GET', bucketPath, 'get bucket');
  } catch (err) {
    const e = err as StorageError;
    if (isStorageError(err, 'BackendUnavailable') && e.details?.status === undefined) {
      checks.push({ check: 'reachable', ok: false, message: `Cannot reach ${host}: ${e.message}. Check SUPABASE_URL and the network.` });
      return skip(['key', 'bucket', 'write'], 'the server did not answer');
    }
    checks.push({ check: 'reachable', ok: true, message: `${host} answered in ${Math.round(performance.now() - started)} ms.` });
    if (isStorageError(err, 'Unauthenticated') || isStorageError(err, 'Forbidden')) {
      checks.push({ check: 'key', ok: false, message: `The key was refused (${e.message}). Check SUPABASE_KEY / SUPABASE_SERVICE_ROLE_KEY.` });
      return skip(['bucket', 'write'], 'the key was refused');
    }
    if (!isStorageError(err, 'NotFound')) {
      checks.push({ check: 'key', ok: false, message: `The server failed: ${e.message}.` });
      return skip(['bucket', 'write'], 'the server failed');
    }
    checks.push({ check: 'key', ok: true, message: `The ${role ?? 'given'} key is accepted.` });
    if (role === 'service_role') {
      checks.push({ check: 'bucket', ok: false, message: `Bucket "${opts.bucket}" was not found. Run setup to create it.` });
      return skip(['write'], 'there is no bucket to write to');
    }
    // Other keys may not see bucket rows at all (RLS): let the write probe tell.
    return probeWrite(client, opts.bucket, checks, undefined);
  }
  checks.push({ check: 'reachable', ok: true, message: `${host} answered in ${Math.round(performance.now() - started)} ms.` });
  checks.push({ check: 'key', ok: true, message: `The ${role ?? 'given'} key is accepted.` });
  const limit = bucket?.file_size_limit ? `, files up to ${bucket.file_size_limit} bytes` : '';
  const types = bucket?.allowed_mime_types?.length ? `, types ${bucket.allowed_mime_types.join(', ')}` : '';
  checks.push({ check: 'bucket', ok: true, message: `Bucket "${opts.bucket}" exists (${bucket?.public ? 'public' : 'private'}${limit}${types}).` });
  return probeWrite(client, opts.bucket, checks, bucket?.allowed_mime_types);
}

/**
 * Writes and removes a small probe. With `allowed` undefined the bucket check is still open
 * (the key cannot see bucket rows) and the probe's answer settles it.
 */
async function probeWrite(client: SupabaseClient, bucket: string, checks: ConnectionCheck[], allowed: string[] | null | undefined): Promise<ConnectionReport> {
  const done = () => ({ ok: checks.length === 4 && checks.every((c) => c.ok), checks });
  const bucketKnown = checks.some((c) => c.check === 'bucket');
  const probe = `.bucketgate-probe/${randomUUID()}.txt`;
  try {
    await client.send('POST', `/object/${encodeName(bucket)}/${encodeName(probe)}`, 'test upload', {
      headers: { 'content-type': probeType(allowed), 'x-upsert': 'false' },
      body: Buffer.from('bucketgate connection test\n'),
    });
  } catch (err) {
    const e = err as StorageError;
    const refused = isStorageError(err, 'Forbidden') || isStorageError(err, 'Unauthenticated');
    if (!bucketKnown) {
      if (isStorageError(err, 'NotFound')) {
        checks.push({ check: 'bucket', ok: false, message: `Bucket "${bucket}" was not found. Run setup (with SUPABASE_SERVICE_ROLE_KEY) to create it.` });
        checks.push({ check: 'write', ok: false, message: 'Not checked: there is no bucket to write to.' });
        return done();
      }
      checks.push({
        check: 'bucket',
        ok: false,
        message: `Bucket "${bucket}" is not visible to this key (RLS hides bucket rows), so whether it exists cannot be told; check with SUPABASE_SERVICE_ROLE_KEY.`,
      });
    }
    const advice = refused
      ? " The bucket's policies (RLS) do not let this key write: add the INSERT policy printed by setup, or use SUPABASE_SERVICE_ROLE_KEY on the server."
      : '';
    checks.push({ check: 'write', ok: false, message: `The test upload was refused: ${e.message}.${advice}` });
    return done();
  }
  if (!bucketKnown) checks.push({ check: 'bucket', ok: true, message: `Bucket "${bucket}" exists (its settings are not visible to this key).` });
  let removed = true;
  await client.send('DELETE', `/object/${encodeName(bucket)}`, 'remove test file', { json: { prefixes: [probe] } }).catch(() => (removed = false));
  checks.push({
    check: 'write',
    ok: true,
    message: removed ? 'A test file was written and removed: this key can write to the bucket.' : `A test file was written but could not be removed (${probe}); this key can write but not delete.`,
  });
  return done();
}
