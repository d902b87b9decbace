import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import { StorageError } from '../core/errors.js';
import type { Storage } from '../service/storage.js';
import { bearsSecret, principalOf } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    /** A bearer token that failed verification; thrown once the rate limit has counted the request. */
    authError?: unknown;
    /** GET /metrics with BHIV_METRICS_TOKEN as its bearer token (not a JWT, so not verified as one). */
    metricsScrape?: boolean;
  }
}

/**
 * The request-level defences, in the order they run:
 *  1. `nosniff` on every answer (errors and 404s too);
 *  2. the bearer token is verified once; a bad one is remembered, not thrown yet, so that
 *  3. the rate limit counts every request, including ones with forged tokens (keyed by user
 *     when signed in, else by client address; `service_role` is exempt);
 *  4. then a remembered token failure is answered (401) before any body is read.
 */
export async function registerSecurity(app: FastifyInstance, storage: Storage): Promise<void> {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    request.principal = ANONYMOUS;
    const { metricsToken } = storage.config.security;
    if (metricsToken !== undefined && request.routeOptions.url === '/metrics' && bearsSecret(request, metricsToken)) {
      request.metricsScrape = true;
      return;
    }
    try {
      request.principal = await principalOf(request, storage.jwt);
    } catch (err) {
      request.authError = err;
    }
  });

  const perMinute = storage.config.security.rateLimitPerMinute;
  if (perMinute > 0) {
    // The plugin adds its check to each route registered after it: register before any route.
    await app.register(rateLimit, {
      max: perMinute,
      timeWindow: 60_000,
      keyGenerator: (request: FastifyRequest) =>
        request.principal?.role === 'authenticated' && request.authError === undefined ? `user:${request.principal.sub}` : `addr:${request.ip}`,
      allowList: (request: FastifyRequest) => request.principal?.role === 'service_role' && request.authError === undefined,
      errorResponseBuilder: (_request, context) => new StorageError('RateLimited', `too many requests: at most ${context.max} a minute; retry in ${context.after}`),
    });
  }

  app.addHook('preParsing', async (request) => {
    if (request.authError !== undefined) throw request.authError;
  });
}
