import type { Principal } from '../auth/principal.js';
import type { CatalogStats } from '../catalog/types.js';
import { SECRET_VARIABLES } from '../config/index.js';
import { isStorageError } from '../core/errors.js';
import type { ServiceContext } from './context.js';

/** Per-segment counts and bytes from the catalog, limited to what the principal may read. */
export async function visibleStats(ctx: ServiceContext, principal: Principal): Promise<CatalogStats> {
  if (principal.role === 'service_role') return ctx.catalog.stats();
  const publicSegments = ctx.config.segments.filter((s) => s.public).map((s) => s.name);
  const privateSegments = ctx.config.segments.filter((s) => !s.public).map((s) => s.name);
  const parts = [publicSegments.length ? await ctx.catalog.stats({ segments: publicSegments }) : undefined];
  if (principal.role === 'authenticated' && principal.sub && privateSegments.length) {
    parts.push(await ctx.catalog.stats({ owner: principal.sub, segments: privateSegments }));
  }
  const merged: CatalogStats = { segments: {}, total: { count: 0, bytes: 0 } };
  for (const s of ctx.config.segments) merged.segments[s.name] = { count: 0, bytes: 0 };
  for (const part of parts) {
    if (!part) continue;
    for (const [name, v] of Object.entries(part.segments)) {
      const into = (merged.segments[name] ??= { count: 0, bytes: 0 });
      into.count += v.count;
      into.bytes += v.bytes;
      merged.total.count += v.count;
      merged.total.bytes += v.bytes;
    }
  }
  return merged;
}

/** The configuration as operators may see it: every secret replaced. */
export function redactedConfig(ctx: ServiceContext): Record<string, unknown> {
  const { env: _env, jwtSecret, databaseUrl, ...rest } = ctx.config;
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.config.env)) {
    if (value === undefined || !/^(BHIV_|USE_|S3_|AWS_|SUPABASE_|CLOUDFRONT_|MAX_UPLOAD|DATABASE_URL|JWT_|PUBLIC_URL|UPLOAD_TOKEN)/.test(name)) continue;
    variables[name] = SECRET_VARIABLES.test(name) ? '***' : value;
  }
  return {
    ...rest,
    jwtSecret: jwtSecret ? '***' : undefined,
    database: /^postgres/i.test(databaseUrl) ? 'postgres (***)' : databaseUrl,
    variables,
  };
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
