import { createHash } from 'node:crypto';

interface WithMiddleware {
  middlewareStack: {
    add(
      middleware: (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => Promise<unknown>,
      options: { step: 'build'; name: string },
    ): void;
  };
}

/** Sets a header on the request a command builds, before it is signed; `value` sees the body. */
function withBuiltHeader<C>(command: C, name: string, value: (body: unknown) => string | undefined): C {
  (command as unknown as WithMiddleware).middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      const header = value(request.body);
      if (request.headers && header !== undefined) request.headers[name] = header;
      return next(args);
    },
    { step: 'build', name: `bucketgate:${name}` },
  );
  return command;
}

/**
 * Adds Content-MD5 to a bucket-configuration request. S3 requires an integrity header on these;
 * with checksums set to WHEN_REQUIRED the SDK sends a CRC32 one, which Ceph 16 does not know,
 * while Content-MD5 is understood by every S3 implementation.
 */
export function withContentMd5<C>(command: C): C {
  return withBuiltHeader(command, 'content-md5', (body) =>
    typeof body === 'string' || body instanceof Uint8Array ? createHash('md5').update(body).digest('base64') : undefined,
  );
}

/**
 * Signs the payload with a SHA-256 already known (`x-amz-content-sha256`, hex), so the SDK does
 * not hash the body a second time, and the store still refuses a body that does not match it
 * (XAmzContentSHA256Mismatch → ChecksumMismatch).
 */
export function withPayloadSha256<C>(command: C, sha256Hex: string): C {
  return withBuiltHeader(command, 'x-amz-content-sha256', () => sha256Hex);
}
