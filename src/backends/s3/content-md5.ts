import { createHash } from 'node:crypto';

interface WithMiddleware {
  middlewareStack: {
    add(
      middleware: (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => Promise<unknown>,
      options: { step: 'build'; name: string },
    ): void;
  };
}

/**
 * Adds Content-MD5 to a bucket-configuration request. S3 requires an integrity header on these;
 * with checksums set to WHEN_REQUIRED the SDK sends a CRC32 one, which Ceph 16 does not know,
 * while Content-MD5 is understood by every S3 implementation. Added before signing.
 */
export function withContentMd5<C>(command: C): C {
  (command as unknown as WithMiddleware).middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      const body = request.body;
      if (request.headers && (typeof body === 'string' || body instanceof Uint8Array)) {
        request.headers['content-md5'] = createHash('md5').update(body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'bucketgateContentMd5' },
  );
  return command;
}
