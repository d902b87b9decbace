import type { Readable } from 'node:stream';
import type { Backend, Capabilities } from '../../core/backend.js';
import { StorageError, isStorageError, toStorageError } from '../../core/errors.js';
import type { KeyRules } from '../../core/keys.js';
import type {
  CopyOptions,
  DeleteManyResult,
  GetOptions,
  GetResult,
  HealthReport,
  ListOptions,
  ListPage,
  ObjectInfo,
  PresignedRequest,
  PresignOptions,
  PutOptions,
} from '../../core/types.js';
import { type SupabaseClient, encodeName } from './client.js';
import { listObjects } from './list.js';
import { type ObjectRow, infoFromRow } from './metadata.js';
import { getObject, headObject } from './read.js';
import { STAGING_FOLDER, infoOf, sweepStaging, uploadObject } from './upload.js';
import { type TransformOptions, imageUrl, publicUrl, signedDownloadUrl, signedUploadUrl } from './urls.js';

/** Supabase's limit on names per bulk delete. */
const DELETE_BATCH = 1000;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkPutOptions(opts: PutOptions) {
  const line = (name: string, value: string | undefined) => {
    if (value !== undefined && (typeof value !== 'string' || value === '' || value.length > 1024 || CONTROL.test(value))) {
      throw new StorageError('InvalidArgument', `${name} must be a non-empty line of text`);
    }
    return value;
  };
  const count = (name: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) throw new StorageError('InvalidArgument', `${name} must be a whole number of bytes`);
    return value;
  };
  if (opts.ifNoneMatch !== undefined && opts.ifNoneMatch !== '*') throw new StorageError('InvalidArgument', 'ifNoneMatch may only be "*"');
  if (opts.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.sha256)) throw new StorageError('InvalidArgument', 'sha256 must be 64 hex digits');
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.metadata ?? {})) {
    if (typeof value !== 'string') throw new StorageError('InvalidArgument', `metadata ${JSON.stringify(name)} must be a string`);
    metadata[name] = value;
  }
  const maxBytes = opts.maxBytes === Number.POSITIVE_INFINITY ? undefined : count('maxBytes', opts.maxBytes);
  const contentLength = count('contentLength', opts.contentLength);
  if (contentLength !== undefined && maxBytes !== undefined && contentLength > maxBytes) {
    throw new StorageError('TooLarge', `body of ${contentLength} bytes is larger than the limit of ${maxBytes} bytes`, { details: { limit: maxBytes } });
  }
  return {
    contentType: line('contentType', opts.contentType) ?? 'application/octet-stream',
    cacheControl: line('cacheControl', opts.cacheControl) ?? 'no-cache',
    metadata,
    maxBytes,
    contentLength,
    sha256: opts.sha256?.toLowerCase(),
  };
}

/**
 * Supabase Storage as a bucketgate backend: one bucket (SUPABASE_BUCKET_NAME) whose top-level
 * folders are the segments, so the key `videos/a/b.mp4` is the object `videos/a/b.mp4`.
 * Keys are checked here before any request; names outside the segments are never listed.
 */
export class SupabaseBackend implements Backend {
  readonly kind = 'supabase';
  readonly capabilities: Capabilities = Object.freeze({
    presign: true,
    presignPost: false,
    presignGrant: false,
    multipart: true,
    serverSideEncryption: false,
    publicUrls: true,
    conditionalWrite: true,
    atomicMove: false,
  });

  constructor(
    private readonly client: SupabaseClient,
    readonly bucket: string,
    private readonly keys: KeyRules,
    private readonly upload: { thresholdBytes: number; chunkBytes: number; copyLimitBytes: number },
  ) {}

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<ObjectInfo> {
    const parsed = this.keys.parse(key);
    const checked = checkPutOptions(opts);
    return uploadObject(
      { client: this.client, bucket: this.bucket, ...this.upload },
      { key: parsed.key, body, ...checked, createOnly: opts.ifNoneMatch === '*', signal: opts.signal },
    );
  }

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    return getObject(this.client, this.bucket, this.keys.parse(key).key, opts);
  }

  async head(key: string): Promise<ObjectInfo> {
    return headObject(this.client, this.bucket, this.keys.parse(key).key);
  }

  async delete(key: string): Promise<void> {
    await this.remove([this.keys.parse(key).key]);
  }

  /** Supabase's bulk delete skips missing names, which is exactly the idempotence we promise. */
  private async remove(names: string[]): Promise<void> {
    await this.client.send('DELETE', `/object/${encodeName(this.bucket)}`, 'delete', { json: { prefixes: names } });
  }

  async deleteMany(keys: readonly string[]): Promise<DeleteManyResult> {
    const result: DeleteManyResult = { deleted: [], errors: [] };
    const valid: string[] = [];
    for (const key of keys) {
      try {
        valid.push(this.keys.parse(key).key);
      } catch (err) {
        const e = toStorageError(err);
        result.errors.push({ key, code: e.code, message: e.message });
      }
    }
    for (let i = 0; i < valid.length; i += DELETE_BATCH) {
      const batch = valid.slice(i, i + DELETE_BATCH);
      try {
        await this.remove(batch);
        result.deleted.push(...batch);
      } catch (err) {
        const e = toStorageError(err);
        for (const key of batch) result.errors.push({ key, code: e.code, message: e.message });
      }
    }
    return result;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListPage> {
    return listObjects(this.client, this.bucket, this.keys, prefix, opts);
  }

  async copy(from: string, to: string, opts: CopyOptions = {}): Promise<ObjectInfo> {
    const source = this.keys.parse(from).key;
    const target = this.keys.parse(to).key;
    if (opts.ifNoneMatch !== undefined && opts.ifNoneMatch !== '*') throw new StorageError('InvalidArgument', 'ifNoneMatch may only be "*"');
    const row = await this.client.json<ObjectRow>('POST', '/object/copy', 'copy', {
      headers: { 'x-upsert': String(opts.ifNoneMatch !== '*') },
      json: { bucketId: this.bucket, sourceKey: source, destinationKey: target },
    });
    return row.metadata && row.user_metadata !== undefined ? infoFromRow(target, row) : infoOf(this.client, this.bucket, target);
  }

  /** Copy then delete: Supabase's own move refuses an existing target, ours replaces it. */
  async move(from: string, to: string, opts: CopyOptions = {}): Promise<ObjectInfo> {
    const source = this.keys.parse(from).key;
    const target = this.keys.parse(to).key;
    if (source === target) return this.head(source);
    const info = await this.copy(source, target, opts);
    await this.remove([source]);
    return info;
  }

  async presign(key: string, opts: PresignOptions): Promise<PresignedRequest> {
    const parsed = this.keys.parse(key);
    if (opts.method === 'GET') return signedDownloadUrl(this.client, this.bucket, parsed.key, opts.expiresIn);
    if (opts.method === 'PUT') {
      // Supabase fixes a signed upload URL's lifetime (two hours) and cannot cap its size; expiresAt says so.
      const { token: _token, ...request } = await signedUploadUrl(this.client, this.bucket, parsed.key, { upsert: !opts.createOnly, contentType: opts.contentType });
      return request;
    }
    throw new StorageError('Unsupported', 'Supabase Storage has no browser form (POST policy) uploads');
  }

  async health(): Promise<HealthReport> {
    const started = performance.now();
    await this.client.send('GET', `/bucket/${encodeName(this.bucket)}`, 'health check');
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100, details: { bucket: this.bucket } };
  }

  async close(): Promise<void> {}

  // --- Supabase extras: URLs a client uses directly, and housekeeping -----------------

  publicUrl(key: string, opts: { download?: string | boolean } = {}): string {
    return publicUrl(this.client, this.bucket, this.keys.parse(key).key, opts);
  }

  signedUrl(key: string, expiresIn: number, opts: { download?: string | boolean } = {}): Promise<PresignedRequest> {
    return signedDownloadUrl(this.client, this.bucket, this.keys.parse(key).key, expiresIn, opts);
  }

  signedUploadUrl(key: string, opts: { upsert?: boolean; contentType?: string } = {}) {
    return signedUploadUrl(this.client, this.bucket, this.keys.parse(key).key, opts);
  }

  imageUrl(key: string, transform: TransformOptions, opts: { access?: 'public' | 'authenticated' } = {}): string {
    return imageUrl(this.client, this.bucket, this.keys.parse(key).key, transform, opts);
  }

  /** Removes staging objects (`.bucketgate-staging/…`) a crash left behind. */
  sweepStaging(olderThanMs?: number): Promise<number> {
    return sweepStaging(this.client, this.bucket, olderThanMs).catch((err) => {
      if (isStorageError(err, 'NotFound')) return 0;
      throw err;
    });
  }
}

export { STAGING_FOLDER };
