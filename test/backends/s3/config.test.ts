import { describe, expect, it } from 'vitest';
import { resolveS3Options } from '../../../src/backends/s3/config.js';
import { s3OptionsFromEnv } from '../../../src/backends/s3/index.js';
import { StorageError } from '../../../src/core/errors.js';

const MiB = 1024 * 1024;
const minioEnv = { S3_BUCKET_NAME: 'media', S3_ENDPOINT_URL: 'http://127.0.0.1:9000', AWS_ACCESS_KEY_ID: 'minio', AWS_SECRET_ACCESS_KEY: 'minio-secret-1' };

function configError(fn: () => unknown): StorageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('ConfigInvalid');
    return err as StorageError;
  }
  throw new Error('expected a ConfigInvalid error');
}

describe('s3OptionsFromEnv', () => {
  it('reads the guide variables with their defaults', () => {
    const opts = s3OptionsFromEnv({ S3_BUCKET_NAME: 'media', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' }, { minio: false });
    expect(opts).toMatchObject({ bucket: 'media', region: 'us-east-1', forcePathStyle: false, multipartThresholdBytes: 16 * MiB, partSizeBytes: 5 * MiB, queueSize: 4 });
    expect(opts.endpoint).toBeUndefined();
    expect(opts.sse).toBeUndefined();
  });

  it('MinIO: needs the endpoint, and uses path style unless told otherwise', () => {
    expect(s3OptionsFromEnv(minioEnv, { minio: true })).toMatchObject({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
    expect(s3OptionsFromEnv({ ...minioEnv, S3_FORCE_PATH_STYLE: 'false' }, { minio: true }).forcePathStyle).toBe(false);
    const err = configError(() => s3OptionsFromEnv({ ...minioEnv, S3_ENDPOINT_URL: '' }, { minio: true }));
    expect(err.message).toMatch(/^S3_ENDPOINT_URL: expected/);
  });

  it('reads encryption, CloudFront and multipart settings', () => {
    const opts = s3OptionsFromEnv(
      { ...minioEnv, S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:1:key/x', CLOUDFRONT_DOMAIN: 'd123.cloudfront.net', S3_MULTIPART_THRESHOLD_MB: '64', S3_PART_SIZE_MB: '16', S3_QUEUE_SIZE: '8', S3_REGION: 'eu-west-1' },
      { minio: false },
    );
    expect(opts).toMatchObject({ sse: 'aws:kms', sseKmsKeyId: 'arn:aws:kms:eu-west-1:1:key/x', cloudfrontDomain: 'd123.cloudfront.net', multipartThresholdBytes: 64 * MiB, partSizeBytes: 16 * MiB, queueSize: 8, region: 'eu-west-1' });
    expect(s3OptionsFromEnv({ ...minioEnv, S3_SSE: 'AES256' }, { minio: false }).sse).toBe('AES256');
  });

  it.each([
    [{ S3_BUCKET_NAME: '' }, 'S3_BUCKET_NAME'],
    [{ S3_BUCKET_NAME: 'Not_A_Bucket' }, 'S3_BUCKET_NAME'],
    [{ S3_REGION: 'eu west' }, 'S3_REGION'],
    [{ S3_ENDPOINT_URL: 'ftp://x' }, 'S3_ENDPOINT_URL'],
    [{ AWS_SECRET_ACCESS_KEY: '' }, 'AWS_SECRET_ACCESS_KEY'],
    [{ AWS_ACCESS_KEY_ID: '' }, 'AWS_ACCESS_KEY_ID'],
    [{ S3_SSE: 'rot13' }, 'S3_SSE'],
    [{ S3_SSE_KMS_KEY_ID: 'k' }, 'S3_SSE_KMS_KEY_ID'],
    [{ S3_FORCE_PATH_STYLE: 'maybe' }, 'S3_FORCE_PATH_STYLE'],
    [{ S3_PART_SIZE_MB: '4' }, 'S3_PART_SIZE_MB'],
    [{ S3_MULTIPART_THRESHOLD_MB: 'lots' }, 'S3_MULTIPART_THRESHOLD_MB'],
    [{ S3_QUEUE_SIZE: '0' }, 'S3_QUEUE_SIZE'],
    [{ CLOUDFRONT_DOMAIN: 'https://x/?q' }, 'CLOUDFRONT_DOMAIN'],
  ])('names the variable when %o is wrong', (patch, variable) => {
    const err = configError(() => s3OptionsFromEnv({ ...minioEnv, ...patch }, { minio: true }));
    expect(err.message.startsWith(`${variable}: expected`)).toBe(true);
    // A secret is never echoed back.
    expect(err.message).not.toContain('minio-secret-1');
  });
});

describe('resolveS3Options', () => {
  it('refuses options S3 cannot work with, naming them', () => {
    expect(() => resolveS3Options({ bucket: 'b' })).toThrow(/bucket/);
    expect(() => resolveS3Options({ bucket: 'media', partSizeBytes: MiB })).toThrow(/partSizeBytes/);
    expect(() => resolveS3Options({ bucket: 'media', accessKeyId: 'a' })).toThrow(/accessKeyId\/secretAccessKey/);
    expect(() => resolveS3Options({ bucket: 'media', publicSegments: ['nope'] })).toThrow(/publicSegments/);
  });

  it('turns CLOUDFRONT_DOMAIN into an https base URL', () => {
    expect(resolveS3Options({ bucket: 'media', cloudfrontDomain: 'd1.cloudfront.net' }).cloudfrontBase).toBe('https://d1.cloudfront.net');
    expect(resolveS3Options({ bucket: 'media', cloudfrontDomain: 'http://cdn.local:8080/' }).cloudfrontBase).toBe('http://cdn.local:8080');
  });
});
