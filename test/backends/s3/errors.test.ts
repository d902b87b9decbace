import { describe, expect, it } from 'vitest';
import { fromS3Error } from '../../../src/backends/s3/errors.js';

/** An SDK-shaped service error. */
function sdkError(name: string, status: number, message = 'raw message from the store'): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, requestId: 'req-1' } });
}

const ctx = { op: 'get', subject: 'uploads/a.txt', bucket: 'media' };

describe('fromS3Error', () => {
  it.each([
    ['NoSuchKey', 404, 'NotFound', false],
    ['NotFound', 404, 'NotFound', false],
    ['NoSuchBucket', 404, 'NotFound', false],
    ['InvalidRange', 416, 'RangeNotSatisfiable', false],
    ['AccessDenied', 403, 'Forbidden', false],
    ['Forbidden', 403, 'Forbidden', false],
    ['SignatureDoesNotMatch', 403, 'Unauthenticated', false],
    ['InvalidAccessKeyId', 403, 'Unauthenticated', false],
    ['ExpiredToken', 400, 'Unauthenticated', false],
    ['AuthorizationHeaderMalformed', 400, 'ConfigInvalid', false],
    ['PermanentRedirect', 301, 'ConfigInvalid', false],
    ['EntityTooLarge', 400, 'TooLarge', false],
    ['BadDigest', 400, 'ChecksumMismatch', false],
    ['PreconditionFailed', 412, 'PreconditionFailed', false],
    ['SlowDown', 503, 'BackendUnavailable', true],
    ['ServiceUnavailable', 503, 'BackendUnavailable', true],
    ['InternalError', 500, 'BackendUnavailable', true],
    ['NotImplemented', 501, 'Unsupported', false],
    ['XMinioStorageFull', 507, 'InsufficientStorage', false],
    ['Unknown', 429, 'BackendUnavailable', true],
  ])('%s (%i) → %s', (name, status, code, temporary) => {
    const err = fromS3Error(sdkError(name, status), ctx);
    expect(err.code).toBe(code);
    expect(err.temporary).toBe(temporary);
    expect(err.message).not.toContain('raw message from the store');
    expect(err.details).toMatchObject({ s3Code: name, status, requestId: 'req-1' });
    expect(err.cause).toBeUndefined();
  });

  it('a 412 on a create-only write means the key exists', () => {
    expect(fromS3Error(sdkError('PreconditionFailed', 412), { ...ctx, createOnly: true }).code).toBe('AlreadyExists');
    expect(fromS3Error(sdkError('ConditionalRequestConflict', 409), { ...ctx, createOnly: true }).code).toBe('AlreadyExists');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE'])('network failure %s → BackendUnavailable, temporary', (code) => {
    const err = fromS3Error(Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code }), ctx);
    expect(err).toMatchObject({ code: 'BackendUnavailable', temporary: true });
  });

  it('a timeout inside the SDK wrapping is found through its cause', () => {
    const inner = Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
    expect(fromS3Error(Object.assign(new Error('request failed'), { cause: inner }), ctx).code).toBe('BackendUnavailable');
  });

  it('never carries the SDK error (which could hold request details) as its cause', () => {
    const raw = Object.assign(sdkError('SignatureDoesNotMatch', 403), { StringToSign: 'AWS4-HMAC-SHA256 secret-ish', SignatureProvided: 'abc' });
    const err = fromS3Error(raw, ctx);
    expect(JSON.stringify(err)).not.toContain('secret-ish');
    expect(err.message).toMatch(/AWS_SECRET_ACCESS_KEY/);
  });
});
