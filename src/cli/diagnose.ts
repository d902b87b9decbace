import { constants } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { testS3Connection } from '../backends/s3/index.js';
import { supabaseOptionsFromEnv, testSupabaseConnection } from '../backends/supabase/index.js';
import type { BackendKind, Config } from '../config/index.js';
import { isStorageError } from '../core/errors.js';
import { createBackend, s3Options } from '../service/backend-factory.js';
import { KeyRules } from '../core/keys.js';

/** One backend's connection check, in the same shape whatever the backend. */
export interface Diagnosis {
  backend: BackendKind;
  ok: boolean;
  /** One plain sentence: what works, or what is wrong and how to fix it. */
  message: string;
  checks: { name: string; ok: boolean; ms?: number; detail: string }[];
}

const elapsed = (from: number) => Math.round((performance.now() - from) * 10) / 10;

/** Local disk: the guide's `df -h` and `ls -la bucket/`, then a probe write/read/delete. */
async function diagnoseLocal(config: Config): Promise<Diagnosis> {
  const checks: Diagnosis['checks'] = [];
  const root = config.bucketPath;
  try {
    const fs = await statfs(root);
    const free = fs.bavail * fs.bsize;
    checks.push({ name: 'free space', ok: free > config.maxUploadBytes, detail: `${(free / 1024 ** 3).toFixed(1)} GiB free under ${root}` });
  } catch {
    checks.push({ name: 'free space', ok: true, detail: `${root} does not exist yet; it is created at first start` });
  }
  try {
    await access(root, constants.R_OK | constants.W_OK | constants.X_OK);
    checks.push({ name: 'permissions', ok: true, detail: `${root} is readable and writable` });
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    checks.push({ name: 'permissions', ok: missing, detail: missing ? 'folder will be created' : `cannot read and write ${root}: fix its owner or mode (ls -la)` });
  }
  checks.push(...(await probe(config)));
  const failed = checks.find((c) => !c.ok);
  return { backend: 'local', ok: !failed, message: failed ? `Local disk: ${failed.name} failed: ${failed.detail}.` : `Local disk at ${root} works.`, checks };
}

/** Write, read back and delete a probe object through the backend, with timings. */
async function probe(config: Config): Promise<Diagnosis['checks']> {
  const checks: Diagnosis['checks'] = [];
  const keys = new KeyRules(config.segments.map((s) => s.name));
  const backend = await createBackend(config, keys);
  const key = `${keys.segments[0]}/bucketgate-probe-${Date.now()}.txt`;
  const body = 'bucketgate probe';
  const step = async (name: string, run: () => Promise<string>) => {
    const from = performance.now();
    try {
      const detail = await run();
      checks.push({ name, ok: true, ms: elapsed(from), detail });
      return true;
    } catch (err) {
      checks.push({ name, ok: false, ms: elapsed(from), detail: isStorageError(err) ? `${err.code}: ${err.message}` : String(err) });
      return false;
    }
  };
  try {
    if (
      (await step('write', async () => `${(await backend.put(key, Readable.from([Buffer.from(body)]), { contentType: 'text/plain' })).size} bytes written`)) &&
      (await step('read', async () => {
        const { body: stream } = await backend.get(key);
        let text = '';
        for await (const chunk of stream) text += chunk;
        if (text !== body) throw new Error('read back different bytes');
        return 'read back the same bytes';
      }))
    ) {
      await step('delete', async () => {
        await backend.delete(key);
        return 'deleted';
      });
    }
  } finally {
    await backend.close();
  }
  return checks;
}

export async function diagnose(kind: BackendKind, config: Config): Promise<Diagnosis> {
  const scoped: Config = { ...config, backend: kind };
  if (kind === 'local') return diagnoseLocal(scoped);
  if (kind === 's3' || kind === 'minio') {
    const report = await testS3Connection(s3Options(scoped));
    return { backend: kind, ok: report.ok, message: report.message, checks: report.checks.map((c) => ({ name: c.name, ok: c.ok, ms: c.ms === undefined ? undefined : Math.round(c.ms * 100) / 100, detail: c.detail })) };
  }
  const report = await testSupabaseConnection(supabaseOptionsFromEnv(scoped.env));
  const failed = report.checks.find((c) => !c.ok);
  return {
    backend: kind,
    ok: report.ok,
    message: failed ? failed.message : `Supabase Storage at ${scoped.env.SUPABASE_URL} works.`,
    checks: report.checks.map((c) => ({ name: c.check, ok: c.ok, detail: c.message })),
  };
}

/** Backends with configuration present: local always; the others when their variables are set. */
export function configuredBackends(config: Config): BackendKind[] {
  const env = config.env;
  const kinds: BackendKind[] = ['local'];
  if (env.S3_BUCKET_NAME && !env.S3_ENDPOINT_URL) kinds.push('s3');
  if (env.S3_BUCKET_NAME && env.S3_ENDPOINT_URL) kinds.push(config.backend === 's3' ? 's3' : 'minio');
  if (env.SUPABASE_URL) kinds.push('supabase');
  return kinds;
}
