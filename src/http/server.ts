import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { StorageError } from '../core/errors.js';
import { VERSION, type Storage } from '../service/storage.js';
import { sendError } from './errors.js';
import { refuseMalformedRequests } from './malformed.js';
import { bucketRoutes } from './routes/bucket.js';
import { cdnReadRoutes } from './routes/cdn-read.js';
import { cdnUploadRoutes } from './routes/cdn-upload.js';
import { observabilityRoutes } from './routes/observability.js';
import { storageRoutes } from './routes/storage.js';
import { cdnSignRoutes } from './routes/cdn-sign.js';
import { documentErrors } from './openapi-errors.js';
import { SUPABASE_PREFIX } from './routes/supabase/index.js';
import { sendSupabaseError } from './routes/supabase/errors.js';
import { ReleasingResponse } from './releasing-response.js';
import { registerSecurity } from './security.js';

export interface ServerOptions {
  /** A client idle this long (headers or body) is cut off. */
  idleTimeoutMs?: number;
  logger?: boolean;
  /** What GET /metrics answers; by default this process's registry (serve --workers: all workers'). */
  metricsText?: () => Promise<string>;
}

export async function buildServer(storage: Storage, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const limits = storage.config.security;
  const idle = opts.idleTimeoutMs ?? limits.idleTimeoutMs;
  const app = Fastify({
    logger: opts.logger ? { level: 'info', redact: ['req.headers.authorization', 'req.headers.apikey'] } : false,
    // Slow clients: idle sockets, slow headers and (optionally) slow whole requests are cut off.
    connectionTimeout: idle,
    keepAliveTimeout: 5_000,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks header and request deadlines on this interval (30 s by default: too coarse).
    // ReleasingResponse: large downloads read into reused buffers (releasing-response.ts).
    http: { requireHostHeader: false, connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(limits.headersTimeoutMs / 4))), ServerResponse: ReleasingResponse },
    trustProxy: limits.trustProxy,
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, useDefaults: true } },
    // URLs the router cannot take apart (bad percent-encoding, over-long parameters) get our JSON error too.
    frameworkErrors: (err, request, reply) => {
      reply.header('x-content-type-options', 'nosniff');
      const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : 'the URL is malformed';
      const refusal = new StorageError('InvalidArgument', message);
      return request.url.startsWith(SUPABASE_PREFIX) ? sendSupabaseError(request, reply, refusal) : sendError(request, reply, refusal);
    },
  });
  app.server.headersTimeout = limits.headersTimeoutMs;

  await registerSecurity(app, storage);
  refuseMalformedRequests(app);
  documentErrors(app);
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new StorageError('NotFound', `no route ${request.method} ${request.url.split('?')[0]}`)));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'bucketgate', version: VERSION, description: 'One storage API over local disk, Supabase Storage, AWS S3 and MinIO.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }, {}],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await cdnUploadRoutes(app, storage);
  await cdnReadRoutes(app, storage);
  await cdnSignRoutes(app, storage);
  await bucketRoutes(app, storage);
  await storageRoutes(app, storage);
  await observabilityRoutes(app, storage, opts.metricsText);
  await (await import('./routes/supabase/index.js')).supabaseRoutes(app, storage);
  await (await import('./routes/web.js')).webRoutes(app, storage);
  return app;
}
