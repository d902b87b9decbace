import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/index.js';
import type { Backend } from '../../src/core/backend.js';
import { buildServer } from '../../src/http/server.js';
import { type Storage, createStorage } from '../../src/service/storage.js';
import { freePort } from './ports.js';

export type BackendFactory = () => Promise<{ backend: Backend; cleanup?: () => Promise<void> }>;

export interface ServiceHandle {
  url: string;
  storage: Storage;
  app: FastifyInstance;
  bucketPath: string;
  serviceToken: string;
  userToken(sub: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the real HTTP service on a free port, over local disk or the backend given. */
export async function startService(opts: { backend?: BackendFactory; env?: Record<string, string> } = {}): Promise<ServiceHandle> {
  const bucketPath = await mkdtemp(join(tmpdir(), 'bg-http-'));
  const port = await freePort();
  const config = loadConfig({
    BHIV_BUCKET_PATH: bucketPath,
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: randomBytes(32).toString('hex'),
    MAX_UPLOAD_SIZE_MB: '8',
    BHIV_IDLE_TIMEOUT_MS: '1500',
    ...opts.env,
  });
  const made = opts.backend ? await opts.backend() : undefined;
  const storage = await createStorage({ config, backend: made?.backend });
  const app = await buildServer(storage);
  await app.listen({ host: '127.0.0.1', port });
  const serviceToken = await storage.jwt.mint({ role: 'service_role', sub: 'test-operator', ttlSeconds: 3600 });
  return {
    url: `http://127.0.0.1:${port}`,
    storage,
    app,
    bucketPath,
    serviceToken,
    userToken: (sub) => storage.jwt.mint({ role: 'authenticated', sub, ttlSeconds: 3600 }),
    async stop() {
      await app.close();
      await storage.close();
      await made?.cleanup?.();
      await rm(bucketPath, { recursive: true, force: true });
    },
  };
}
