import { afterAll, beforeAll } from 'vitest';
import type { S3Backend } from '../../../src/backends/s3/backend.js';
import type { S3BackendOptions } from '../../../src/backends/s3/index.js';
import type { S3TestServer } from '../../servers/server.js';
import { SERVER_START_TIMEOUT, type ServerName, backendFor, startServer } from './fixture.js';

/** One started server shared by every behaviour group of a test file. */
export interface S3TestEnv {
  server: S3TestServer;
  /** A backend with default options. */
  backend: S3Backend;
  /** Another backend on the same server (closed after the file). */
  backendWith(extra: Partial<S3BackendOptions>): Promise<S3Backend>;
}

export function useS3Server(name: ServerName): () => S3TestEnv {
  let env: S3TestEnv | undefined;
  const extras: S3Backend[] = [];
  beforeAll(async () => {
    const server = await startServer(name);
    const backend = await backendFor(server);
    env = {
      server,
      backend,
      async backendWith(extra) {
        const b = await backendFor(server, extra);
        extras.push(b);
        return b;
      },
    };
  }, SERVER_START_TIMEOUT);
  afterAll(async () => {
    for (const b of extras) await b.close();
    await env?.backend.close();
    await env?.server.stop();
  });
  return () => {
    if (!env) throw new Error('the S3 test server did not start');
    return env;
  };
}
