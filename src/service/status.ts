import type { Principal } from '../auth/principal.js';
import type { CatalogStats } from '../catalog/types.js';
import { SECRET_VARIABLES } from '../config/index.js';
import { isStorageError } from '../core/errors.js';
import type { ServiceContext } from './context.js';

/**
 * Per-segment counts and bytes from the catalog, counting only what the principal may read
 * (the Policy's read scope: a whole segment, their own folder, or nothing), so statistics
 * never tell anyone the size of a file they could not download.
 */
export async function visibleStats(ctx: ServiceContext, principal: Principal): Promise<CatalogStats> {
  if (principal.role === 'service_role') return ctx.catalog.stats();
  const merged: CatalogStats = { segments: {}, total: { count: 0, bytes: 0 } };
  const whole: string[] = [];
  for (const s of ctx.config.segments) {
    const scope = ctx.policy.scope(principal, 'read', s.name);
    // A segment the principal may not read at all is left out, not shown empty.
    if (scope === null) continue;
    merged.segments[s.name] = { count: 0, bytes: 0 };
    if (scope === '') whole.push(s.name);
    else add(merged, await ctx.catalog.stats({ segments: [s.name], prefix: `${s.name}/${scope}` }));
  }
  if (whole.length > 0) add(merged, await ctx.catalog.stats({ segments: whole }));
  return merged;
}

function add(into: CatalogStats, part: CatalogStats): void {
  for (const [name, v] of Object.entries(part.segments)) {
    const entry = (into.segments[name] ??= { count: 0, bytes: 0 });
    entry.count += v.count;
    entry.bytes += v.bytes;
    into.total.count += v.count;
    into.total.bytes += v.bytes;
  }
}

/** How stored bytes are protected at rest, from the backend actually configured. */
export function encryptionAtRest(ctx: ServiceContext): { atRest: 'local-aes-256-gcm' | 'sse:AES256' | 'sse:aws:kms' | 'none' } {
  const { backend, env, security } = ctx.config;
  if (backend === 'local') return { atRest: security.encryptionKey ? 'local-aes-256-gcm' : 'none' };
  if (backend === 's3' || backend === 'minio') {
    const sse = (env.S3_SSE ?? '').trim().toLowerCase();
    if (sse === 'aes256') return { atRest: 'sse:AES256' };
    if (sse === 'aws:kms') return { atRest: 'sse:aws:kms' };
  }
  return { atRest: 'none' };
}

/** The configuration as operators may see it: every secret replaced. */
export function redactedConfig(ctx: ServiceContext): Record<string, unknown> {
  const { env: _env, jwtSecret, databaseUrl, security: _security, ...rest } = ctx.config;
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.config.env)) {
    if (value === undefined || !/^(BHIV_|USE_|S3_|AWS_|SUPABASE_|CLOUDFRONT_|MAX_UPLOAD|DATABASE_URL|JWT_|PUBLIC_URL|UPLOAD_TOKEN)/.test(name)) continue;
    variables[name] = SECRET_VARIABLES.test(name) ? '***' : (hideCredentials(value) as string);
  }
  return {
    ...(hideCredentials(rest) as typeof rest),
    jwtSecret: jwtSecret ? '***' : undefined,
    database: /^postgres/i.test(databaseUrl) ? 'postgres (***)' : databaseUrl,
    variables,
  };
}

/** `user:password@` inside any URL (an S3 endpoint, a public URL) becomes `***@`, however deep. */
function hideCredentials(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi, '$1***@');
  if (Array.isArray(value)) return value.map(hideCredentials);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hideCredentials(v)]));
  }
  return value;
}

export async function healthOf(ctx: ServiceContext): Promise<{ ok: boolean; latencyMs: number; error?: { code: string; message: string } }> {
  const started = performance.now();
  try {
    const report = await ctx.backend.health();
    return { ok: true, latencyMs: report.latencyMs };
  } catch (err) {
    const code = isStorageError(err) ? err.code : 'Internal';
    const message = isStorageError(err) ? err.message : 'health check failed';
    return { ok: false, latencyMs: Math.round((performance.now() - started) * 100) / 100, error: { code, message } };
  }
}
