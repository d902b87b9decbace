import { type Env, configError, readBool, readChoice, readNumber, readString, readUrl, requireString } from '../../config/parse.js';
import { StorageError } from '../../core/errors.js';
import { type KeyRules, defaultKeyRules, isValidSegmentName } from '../../core/keys.js';

const MiB = 1024 * 1024;
/** S3's own limits on multipart uploads. */
export const MIN_PART_BYTES = 5 * MiB;
export const MAX_PART_BYTES = 5 * 1024 * MiB;
export const MAX_PARTS = 10_000;
/** Largest object a single CopyObject may copy; above it, copies go part by part. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 * MiB;

export type SseMode = 'AES256' | 'aws:kms';

export interface S3BackendOptions {
  bucket: string;
  /** Default `us-east-1`. */
  region?: string;
  /** For MinIO, Ceph, R2, B2 and other S3-compatible stores; unset for AWS. */
  endpoint?: string;
  /** Static credentials; without them the SDK's usual chain (env, profile, instance role) is used. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO and most self-hosted stores need. */
  forcePathStyle?: boolean;
  /** Server-side encryption asked for on every write. */
  sse?: SseMode;
  /** KMS key for `sse: 'aws:kms'` (else the bucket's default key). */
  sseKmsKeyId?: string;
  /** Host (or URL) of a CloudFront distribution in front of the bucket, for public URLs. */
  cloudfrontDomain?: string;
  /** Segments whose objects are public (readable through `publicUrl`). */
  publicSegments?: readonly string[];
  /** Bodies larger than this go up as a multipart upload (default 16 MiB). */
  multipartThresholdBytes?: number;
  /** Size of each part (default and minimum 5 MiB, as the SDK's own uploader: memory per upload is part size × queue size). */
  partSizeBytes?: number;
  /** Parts in flight at once (default 4); with the part size it bounds the memory an upload takes. */
  queueSize?: number;
  /** Objects above this are copied part by part with UploadPartCopy (default and maximum 5 GiB). */
  multipartCopyThresholdBytes?: number;
  /** Objects listed are described by HEAD requests, this many at once (default 16). */
  describeConcurrency?: number;
  /** Attempts the SDK makes for a request that failed in a retryable way (default 3). */
  maxAttempts?: number;
  /** Milliseconds to open a connection (default 5 s) and to wait on an idle socket (default 120 s). */
  connectTimeoutMs?: number;
  socketTimeoutMs?: number;
  keys?: KeyRules;
}

export interface ResolvedS3Options {
  bucket: string;
  region: string;
  endpoint: string | undefined;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  forcePathStyle: boolean;
  sse: SseMode | undefined;
  sseKmsKeyId: string | undefined;
  /** `https://host` without a trailing slash. */
  cloudfrontBase: string | undefined;
  publicSegments: ReadonlySet<string>;
  multipartThresholdBytes: number;
  partSizeBytes: number;
  queueSize: number;
  multipartCopyThresholdBytes: number;
  describeConcurrency: number;
  maxAttempts: number;
  connectTimeoutMs: number;
  socketTimeoutMs: number;
  keys: KeyRules;
}

/** S3's bucket naming rules (the DNS-compatible ones every store accepts). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function invalid(option: string, expected: string): StorageError {
  return new StorageError('ConfigInvalid', `s3 backend option ${option}: expected ${expected}`, { details: { option } });
}

function wholeNumber(option: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid(option, `a whole number from ${min} to ${max}`);
  return value;
}

function cloudfrontBase(domain: string | undefined): string | undefined {
  if (domain === undefined || domain.trim() === '') return undefined;
  const withScheme = /^https?:\/\//i.test(domain) ? domain : `https://${domain}`;
  try {
    const url = new URL(withScheme);
    if (url.search || url.hash || url.username) throw new Error('extra parts');
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    throw invalid('cloudfrontDomain', 'a host name such as d123.cloudfront.net');
  }
}

/** Checks options and fills in defaults; every failure names the option. */
export function resolveS3Options(opts: S3BackendOptions): ResolvedS3Options {
  if (typeof opts?.bucket !== 'string' || !BUCKET_NAME.test(opts.bucket)) throw invalid('bucket', 'an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)');
  if (opts.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(opts.endpoint);
    } catch {
      throw invalid('endpoint', 'an http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('endpoint', 'an http(s) URL');
  }
  if ((opts.accessKeyId === undefined) !== (opts.secretAccessKey === undefined)) throw invalid('accessKeyId/secretAccessKey', 'both or neither');
  if (opts.sse !== undefined && opts.sse !== 'AES256' && opts.sse !== 'aws:kms') throw invalid('sse', 'AES256 or aws:kms');
  if (opts.sseKmsKeyId !== undefined && opts.sse !== 'aws:kms') throw invalid('sseKmsKeyId', "to be used with sse 'aws:kms'");
  const keys = opts.keys ?? defaultKeyRules;
  const publicSegments = new Set(opts.publicSegments ?? []);
  for (const s of publicSegments) if (!isValidSegmentName(s) || !keys.isSegment(s)) throw invalid('publicSegments', `known segment names, not ${JSON.stringify(s)}`);
  const partSizeBytes = wholeNumber('partSizeBytes', opts.partSizeBytes, 5 * MiB, MIN_PART_BYTES, MAX_PART_BYTES);
  const multipartThresholdBytes = wholeNumber('multipartThresholdBytes', opts.multipartThresholdBytes, 16 * MiB, 1, MAX_PART_BYTES);
  return {
    bucket: opts.bucket,
    region: opts.region ?? 'us-east-1',
    endpoint: opts.endpoint?.replace(/\/+$/, ''),
    credentials:
      opts.accessKeyId !== undefined && opts.secretAccessKey !== undefined
        ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey, ...(opts.sessionToken ? { sessionToken: opts.sessionToken } : {}) }
        : undefined,
    forcePathStyle: opts.forcePathStyle ?? false,
    sse: opts.sse,
    sseKmsKeyId: opts.sseKmsKeyId,
    cloudfrontBase: cloudfrontBase(opts.cloudfrontDomain),
    publicSegments,
    multipartThresholdBytes,
    partSizeBytes,
    queueSize: wholeNumber('queueSize', opts.queueSize, 4, 1, 64),
    multipartCopyThresholdBytes: wholeNumber('multipartCopyThresholdBytes', opts.multipartCopyThresholdBytes, MAX_SINGLE_COPY_BYTES, 1, MAX_SINGLE_COPY_BYTES),
    describeConcurrency: wholeNumber('describeConcurrency', opts.describeConcurrency, 16, 1, 256),
    maxAttempts: wholeNumber('maxAttempts', opts.maxAttempts, 3, 1, 10),
    connectTimeoutMs: wholeNumber('connectTimeoutMs', opts.connectTimeoutMs, 5000, 1, 600_000),
    socketTimeoutMs: wholeNumber('socketTimeoutMs', opts.socketTimeoutMs, 120_000, 1, 3_600_000),
    keys,
  };
}

/**
 * The guide's variables (and this project's additions) → S3BackendOptions. `minio: true` is
 * `BHIV_STORAGE_BACKEND=minio`: the endpoint is required and path style is the default.
 * Every failure names the variable; secrets are never echoed.
 */
export function s3OptionsFromEnv(env: Env, mode: { minio: boolean; keys?: KeyRules; publicSegments?: readonly string[] }): S3BackendOptions {
  const bucket = requireString(env, 'S3_BUCKET_NAME', 'the bucket name');
  if (!BUCKET_NAME.test(bucket)) throw configError('S3_BUCKET_NAME', 'an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)', bucket);
  const region = readString(env, 'S3_REGION', 'us-east-1') as string;
  if (!/^[a-z0-9-]{2,40}$/.test(region)) throw configError('S3_REGION', 'a region such as us-east-1', region);
  const endpoint = readUrl(env, 'S3_ENDPOINT_URL');
  if (mode.minio && endpoint === undefined) throw configError('S3_ENDPOINT_URL', 'the MinIO server URL, such as http://127.0.0.1:9000');
  const accessKeyId = readString(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = readString(env, 'AWS_SECRET_ACCESS_KEY');
  if (accessKeyId !== undefined && secretAccessKey === undefined) throw configError('AWS_SECRET_ACCESS_KEY', 'the secret key that goes with AWS_ACCESS_KEY_ID');
  if (secretAccessKey !== undefined && accessKeyId === undefined) throw configError('AWS_ACCESS_KEY_ID', 'the access key that goes with AWS_SECRET_ACCESS_KEY');
  if (mode.minio && accessKeyId === undefined) throw configError('AWS_ACCESS_KEY_ID', 'the MinIO access key');
  const sse = readChoice(env, 'S3_SSE', ['aes256', 'aws:kms'] as const);
  const sseKmsKeyId = readString(env, 'S3_SSE_KMS_KEY_ID');
  if (sseKmsKeyId !== undefined && sse !== 'aws:kms') throw configError('S3_SSE_KMS_KEY_ID', 'to be set only with S3_SSE=aws:kms', sseKmsKeyId);
  const cloudfrontDomain = readString(env, 'CLOUDFRONT_DOMAIN');
  const mb = (name: string, fallback: number, min: number) => Math.round(readNumber(env, name, fallback, { min, max: 5120 }) * MiB);
  const opts: S3BackendOptions = {
    bucket,
    region,
    forcePathStyle: readBool(env, 'S3_FORCE_PATH_STYLE', mode.minio),
    multipartThresholdBytes: mb('S3_MULTIPART_THRESHOLD_MB', 16, 1 / 1024),
    partSizeBytes: mb('S3_PART_SIZE_MB', 5, 5),
    queueSize: readNumber(env, 'S3_QUEUE_SIZE', 4, { min: 1, max: 64, integer: true }),
  };
  if (endpoint !== undefined) opts.endpoint = endpoint;
  if (accessKeyId !== undefined && secretAccessKey !== undefined) Object.assign(opts, { accessKeyId, secretAccessKey });
  const sessionToken = readString(env, 'AWS_SESSION_TOKEN');
  if (sessionToken !== undefined) opts.sessionToken = sessionToken;
  if (sse !== undefined) opts.sse = sse === 'aes256' ? 'AES256' : 'aws:kms';
  if (sseKmsKeyId !== undefined) opts.sseKmsKeyId = sseKmsKeyId;
  if (cloudfrontDomain !== undefined) {
    try {
      cloudfrontBase(cloudfrontDomain);
    } catch {
      throw configError('CLOUDFRONT_DOMAIN', 'a host name such as d123.cloudfront.net', cloudfrontDomain);
    }
    opts.cloudfrontDomain = cloudfrontDomain;
  }
  if (mode.keys) opts.keys = mode.keys;
  if (mode.publicSegments) opts.publicSegments = mode.publicSegments;
  return opts;
}
