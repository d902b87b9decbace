import type { Readable } from 'node:stream';
import { s3sdk } from './sdk.js';
import { type Backend, type Capabilities, NO_CAPABILITIES } from '../../core/backend.js';
import { checkLimit, decodeCursor } from '../../core/cursor.js';
import { StorageError, isStorageError } from '../../core/errors.js';
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
import type { S3Context } from './context.js';
import { copyObject, moveObject } from './copy.js';
import { deleteKeys, deleteObject } from './delete.js';
import { fromS3Error } from './errors.js';
import { listPage } from './list.js';
import { presignRequest } from './presign.js';
import { publicUrlOf } from './public-url.js';
import { putObject } from './put.js';
import { getObject, headObject } from './read.js';
import { checkDelimiter, checkDescribe, checkIfNoneMatch, checkPutOptions } from './validate.js';

const { HeadBucketCommand } = s3sdk;

/**
 * The S3 backend: AWS S3, MinIO, Ceph RGW and any S3-compatible store, through the AWS SDK
 * v3. Each operation lives in its own file beside this one; this class only checks keys at
 * one choke point and hands over.
 */
export class S3Backend implements Backend {
  readonly kind = 's3';
  readonly capabilities: Capabilities;

  constructor(private readonly ctx: S3Context) {
    this.capabilities = Object.freeze({
      ...NO_CAPABILITIES,
      presign: true,
      presignPost: true,
      presignGrant: true,
      multipart: true,
      serverSideEncryption: ctx.opts.sse !== undefined,
      publicUrls: ctx.opts.publicSegments.size > 0,
      conditionalWrite: true,
    });
  }

  get bucket(): string {
    return this.ctx.bucket;
  }

  get region(): string {
    return this.ctx.opts.region;
  }

  /** The SDK client, for setup and diagnostics that go beyond the Backend interface. */
  get client(): S3Context['client'] {
    return this.ctx.client;
  }

  private key(raw: string): string {
    return this.ctx.opts.keys.parse(raw).key;
  }

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<ObjectInfo> {
    const parsed = this.key(key);
    const checked = checkPutOptions(opts);
    if (checked.signal?.aborted) throw new StorageError('InvalidArgument', `upload of ${parsed} was aborted`);
    return putObject(this.ctx, parsed, body, checked);
  }

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    return getObject(this.ctx, this.key(key), opts);
  }

  async head(key: string): Promise<ObjectInfo> {
    return headObject(this.ctx, this.key(key));
  }

  async delete(key: string): Promise<void> {
    await deleteObject(this.ctx, this.key(key));
  }

  async deleteMany(keys: readonly string[]): Promise<DeleteManyResult> {
    if (!Array.isArray(keys)) throw new StorageError('InvalidArgument', 'deleteMany takes an array of keys');
    const result: DeleteManyResult = { deleted: [], errors: [] };
    // Invalid keys are reported and skipped; the rest go in batches. Reported under the caller's spelling.
    const valid = new Map<string, string[]>();
    for (const raw of keys) {
      try {
        const key = this.key(raw);
        valid.set(key, [...(valid.get(key) ?? []), String(raw)]);
      } catch (err) {
        const e = isStorageError(err) ? err : new StorageError('InvalidKey', 'invalid key');
        result.errors.push({ key: String(raw), code: e.code, message: e.message });
      }
    }
    const outcome: DeleteManyResult = { deleted: [], errors: [] };
    await deleteKeys(this.ctx, [...valid.keys()], outcome);
    for (const key of outcome.deleted) result.deleted.push(...(valid.get(key) ?? [key]));
    for (const e of outcome.errors) for (const raw of valid.get(e.key) ?? [e.key]) result.errors.push({ ...e, key: raw });
    return result;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListPage> {
    const parsedPrefix = this.ctx.opts.keys.parsePrefix(prefix);
    const limit = checkLimit(opts.limit);
    const after = decodeCursor(opts.cursor);
    const delimiter = checkDelimiter(opts.delimiter);
    const describe = checkDescribe(opts.describe);
    return listPage(this.ctx, { prefix: parsedPrefix, delimiter, after, limit, describe });
  }

  async copy(from: string, to: string, opts: CopyOptions = {}): Promise<ObjectInfo> {
    const source = this.key(from);
    const target = this.key(to);
    const createOnly = checkIfNoneMatch(opts.ifNoneMatch);
    // S3 refuses a copy onto itself that changes nothing; it is a no-op (or, create-only, a clash).
    if (source === target) {
      const info = await this.head(source);
      if (createOnly) throw new StorageError('AlreadyExists', `${target} already exists`);
      return info;
    }
    return copyObject(this.ctx, source, target, createOnly);
  }

  async move(from: string, to: string, opts: CopyOptions = {}): Promise<ObjectInfo> {
    const source = this.key(from);
    const target = this.key(to);
    const createOnly = checkIfNoneMatch(opts.ifNoneMatch);
    if (source === target) {
      const info = await this.head(source);
      if (createOnly) throw new StorageError('AlreadyExists', `${target} already exists`);
      return info;
    }
    return moveObject(this.ctx, source, target, createOnly);
  }

  async presign(key: string, opts: PresignOptions): Promise<PresignedRequest> {
    return presignRequest(this.ctx, this.key(key), opts);
  }

  /**
   * The URL anyone can read an object of a public segment at: through CLOUDFRONT_DOMAIN when
   * set, else the store's own URL. Undefined for keys in private segments.
   */
  publicUrl(key: string): string | undefined {
    const parsed = this.ctx.opts.keys.parse(key);
    return publicUrlOf(this.ctx, parsed.key, parsed.segment);
  }

  /** A HeadBucket round trip: reaches the store, checks the credentials and that the bucket is there. */
  async health(): Promise<HealthReport> {
    const started = performance.now();
    try {
      await this.ctx.client.send(new HeadBucketCommand({ Bucket: this.ctx.bucket }));
    } catch (err) {
      const mapped = fromS3Error(err, { op: 'health check', bucket: this.ctx.bucket });
      if (mapped.code === 'BackendUnavailable') throw mapped;
      // A HEAD has no body: a 404 here can only be the bucket.
      const why = mapped.code === 'NotFound' ? `bucket "${this.ctx.bucket}" does not exist` : mapped.message;
      throw new StorageError('BackendUnavailable', `the S3 store failed a health check: ${why}`, {
        temporary: false,
        details: { ...mapped.details, code: mapped.code },
      });
    }
    return { ok: true, latencyMs: performance.now() - started, details: { bucket: this.ctx.bucket, ...(this.ctx.opts.endpoint ? { endpoint: this.ctx.opts.endpoint } : {}) } };
  }

  async close(): Promise<void> {
    this.ctx.client.destroy();
  }
}
