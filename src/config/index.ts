import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { type Env, configError, readBool, readChoice, readNumber, readString, readUrl } from './parse.js';
import { type SecurityConfig, loadSecurityConfig } from './security.js';
import { type SegmentConfig, defaultSegments, loadSegmentsFile } from './segments.js';

export type { Env } from './parse.js';
export type { SegmentConfig } from './segments.js';
export type { SecurityConfig } from './security.js';
export { typeAllowed } from './segments.js';

export const BACKEND_KINDS = ['local', 's3', 'minio', 'supabase'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** The typed, validated configuration (DESIGN §4). Backend-specific variables stay in `env` for their backend to parse. */
export interface Config {
  backend: BackendKind;
  /** Root of the local bucket (also home of the SQLite catalog and generated secrets). */
  bucketPath: string;
  maxUploadBytes: number;
  /** Memory for the bytes of small objects served (≤ 64 KiB each); 0: no cache. */
  smallObjectCacheBytes: number;
  host: string;
  port: number;
  /** Base URL clients use to reach the service (upload URLs, signed links). */
  publicUrl: string;
  /** `postgres://…` or a SQLite file path. */
  databaseUrl: string;
  jwtSecret: string | undefined;
  uploadTokenTtlSeconds: number;
  cloudfrontDomain: string | undefined;
  segments: SegmentConfig[];
  /** Authentication, policies, signing, encryption at rest, limits (docs/security.md). */
  security: SecurityConfig;
  /** The variables the config was read from (process env over `.env`). */
  env: Env;
}

/** Process environment over `.env` (the environment wins, as dotenv does). */
export function readEnv(env: Env = process.env, dotenvPath = resolve('.env')): Env {
  if (!existsSync(dotenvPath)) return { ...env };
  const fromFile = parseDotenv(readFileSync(dotenvPath));
  return { ...fromFile, ...env };
}

/** The guide's selection: BHIV_STORAGE_BACKEND, then USE_SUPABASE_STORAGE, then USE_S3_STORAGE, else local. */
function selectBackend(env: Env): BackendKind {
  const explicit = readChoice(env, 'BHIV_STORAGE_BACKEND', BACKEND_KINDS);
  if (explicit) return explicit;
  if (readBool(env, 'USE_SUPABASE_STORAGE', false)) return 'supabase';
  if (readBool(env, 'USE_S3_STORAGE', false)) return 's3';
  return 'local';
}

export function loadConfig(env: Env = readEnv()): Config {
  const backend = selectBackend(env);
  // Validate the flags even when BHIV_STORAGE_BACKEND decided, so a typo never passes silently.
  readBool(env, 'USE_SUPABASE_STORAGE', false);
  readBool(env, 'USE_S3_STORAGE', false);
  const bucketPath = resolve(readString(env, 'BHIV_BUCKET_PATH', 'bucket')!);
  const maxUploadMb = readNumber(env, 'MAX_UPLOAD_SIZE_MB', 100, { min: 0.001, max: 5 * 1024 * 1024 });
  const maxUploadBytes = Math.floor(maxUploadMb * 1024 * 1024);
  const smallObjectCacheBytes = Math.floor(readNumber(env, 'BHIV_SMALL_OBJECT_CACHE_MB', 32, { min: 0, max: 64 * 1024 }) * 1024 * 1024);
  const host = readString(env, 'HOST', '127.0.0.1')!;
  const port = readNumber(env, 'PORT', 8080, { min: 0, max: 65535, integer: true });
  const publicUrl = readUrl(env, 'PUBLIC_URL') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const databaseUrl = readString(env, 'DATABASE_URL') ?? join(bucketPath, '.bucketgate', 'catalog.sqlite');
  if (/^[a-z]+:\/\//i.test(databaseUrl) && !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw configError('DATABASE_URL', 'a postgres:// URL or a SQLite file path', databaseUrl);
  }
  const jwtSecret = readString(env, 'JWT_SECRET');
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < 32) throw configError('JWT_SECRET', 'at least 32 bytes', '(too short)');
  const segmentsFile = readString(env, 'BHIV_SEGMENTS_FILE');
  const segments = segmentsFile ? loadSegmentsFile(segmentsFile, maxUploadBytes) : defaultSegments(maxUploadBytes);
  const cloudfront = readString(env, 'CLOUDFRONT_DOMAIN');
  if (cloudfront !== undefined && !/^[a-z0-9.-]+(:\d+)?$/i.test(cloudfront.replace(/^https?:\/\//, ''))) {
    throw configError('CLOUDFRONT_DOMAIN', 'a host name such as d123.cloudfront.net', cloudfront);
  }
  return {
    backend,
    bucketPath,
    maxUploadBytes,
    smallObjectCacheBytes,
    host,
    port,
    publicUrl,
    databaseUrl,
    jwtSecret,
    uploadTokenTtlSeconds: readNumber(env, 'UPLOAD_TOKEN_TTL_SECONDS', 900, { min: 1, max: 7 * 24 * 3600, integer: true }),
    cloudfrontDomain: cloudfront?.replace(/^https?:\/\//, ''),
    segments,
    security: loadSecurityConfig(env),
    env,
  };
}

/** Names of variables whose values are secrets: redacted wherever configuration is shown. */
export const SECRET_VARIABLES = /SECRET|KEY|PASSWORD|TOKEN(?!_TTL)|DATABASE_URL/i;
