import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, readEnv } from '../../src/config/index.js';

const fails = (env: Record<string, string>, variable: string) => {
  expect(() => loadConfig(env)).toThrowError(new RegExp(`^${variable}: expected`));
};

describe('configuration', () => {
  it('defaults to local disk under ./bucket with the guide\'s folders, port 8080 on 127.0.0.1', () => {
    const c = loadConfig({});
    expect(c.backend).toBe('local');
    expect(c.bucketPath).toBe(join(process.cwd(), 'bucket'));
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.maxUploadBytes).toBe(100 * 1024 * 1024);
    expect(c.databaseUrl).toBe(join(process.cwd(), 'bucket', '.bucketgate', 'catalog.sqlite'));
    expect(c.segments.map((s) => s.name)).toEqual(['uploads', 'videos', 'scripts', 'storyboards', 'ratings', 'logs']);
  });

  it('selects the backend as the guide does: BHIV_STORAGE_BACKEND, then USE_SUPABASE_STORAGE, then USE_S3_STORAGE', () => {
    expect(loadConfig({ BHIV_STORAGE_BACKEND: 'minio', USE_SUPABASE_STORAGE: 'true' }).backend).toBe('minio');
    expect(loadConfig({ USE_SUPABASE_STORAGE: 'true', USE_S3_STORAGE: 'true' }).backend).toBe('supabase');
    expect(loadConfig({ USE_S3_STORAGE: 'true' }).backend).toBe('s3');
    expect(loadConfig({ USE_S3_STORAGE: 'false', USE_SUPABASE_STORAGE: 'false' }).backend).toBe('local');
  });

  it('stops on a wrong setting with one line naming the variable', () => {
    fails({ BHIV_STORAGE_BACKEND: 'ftp' }, 'BHIV_STORAGE_BACKEND');
    fails({ USE_S3_STORAGE: 'maybe' }, 'USE_S3_STORAGE');
    fails({ MAX_UPLOAD_SIZE_MB: 'lots' }, 'MAX_UPLOAD_SIZE_MB');
    fails({ MAX_UPLOAD_SIZE_MB: '-1' }, 'MAX_UPLOAD_SIZE_MB');
    fails({ PORT: '70000' }, 'PORT');
    fails({ PORT: '80.5' }, 'PORT');
    fails({ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL');
    fails({ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL');
    fails({ JWT_SECRET: 'short' }, 'JWT_SECRET');
    fails({ CLOUDFRONT_DOMAIN: 'not a host' }, 'CLOUDFRONT_DOMAIN');
    fails({ BHIV_SEGMENTS_FILE: '/nonexistent.json' }, 'BHIV_SEGMENTS_FILE');
  });

  it('never echoes a secret in its error', () => {
    expect(() => loadConfig({ JWT_SECRET: 'hunter2' })).toThrowError(/^JWT_SECRET: expected at least 32 bytes, got "\(too short\)"$/);
  });

  it('reads .env under the process environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-env-'));
    writeFileSync(join(dir, '.env'), 'BHIV_STORAGE_BACKEND=s3\nMAX_UPLOAD_SIZE_MB=5\n');
    const env = readEnv({ MAX_UPLOAD_SIZE_MB: '7' }, join(dir, '.env'));
    const c = loadConfig(env);
    expect(c.backend).toBe('s3');
    expect(c.maxUploadBytes).toBe(7 * 1024 * 1024);
  });

  it('takes segments from BHIV_SEGMENTS_FILE and validates them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-seg-'));
    const file = join(dir, 'segments.json');
    writeFileSync(file, JSON.stringify([{ name: 'media', public: true, allowedTypes: ['video/*'], retentionDays: 7 }]));
    const c = loadConfig({ BHIV_SEGMENTS_FILE: file });
    expect(c.segments).toEqual([{ name: 'media', public: true, allowedTypes: ['video/*'], maxBytes: c.maxUploadBytes, retentionDays: 7 }]);
    writeFileSync(file, JSON.stringify([{ name: '../etc' }]));
    fails({ BHIV_SEGMENTS_FILE: file }, 'BHIV_SEGMENTS_FILE');
    // A segment may lower MAX_UPLOAD_SIZE_MB, never raise it.
    writeFileSync(file, JSON.stringify([{ name: 'docs', maxBytes: 1000 }]));
    expect(loadConfig({ BHIV_SEGMENTS_FILE: file, MAX_UPLOAD_SIZE_MB: '0.5' }).segments[0]!.maxBytes).toBe(1000);
    writeFileSync(file, JSON.stringify([{ name: 'docs', maxBytes: 1_000_000 }]));
    fails({ BHIV_SEGMENTS_FILE: file, MAX_UPLOAD_SIZE_MB: '0.5' }, 'BHIV_SEGMENTS_FILE');
  });
});
