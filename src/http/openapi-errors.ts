import type { FastifyInstance } from 'fastify';
import { errorSchema } from './schemas.js';

/** Supabase's error body (routes under /storage/v1 answer with it). */
const supabaseErrorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } },
  required: ['statusCode', 'error', 'message', 'code'],
} as const;

/**
 * Every route can fail (bad input, no token, rate limit, backend down), so every route's
 * OpenAPI entry documents `4XX` and `5XX` with the body it really sends, unless the route lists
 * its own. /openapi.json then describes every answer the service gives (checked by schemathesis).
 */
export function documentErrors(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = (route.schema ??= {}) as { hide?: boolean; response?: Record<string, unknown> };
    if (schema.hide) return;
    const body = route.url.startsWith('/storage/v1') ? supabaseErrorSchema : errorSchema;
    const response = (schema.response ??= {});
    // A route that documents no success of its own still succeeds somehow: say so without a shape.
    if (!Object.keys(response).some((status) => /^2/.test(status))) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (methods.every((m) => m === 'OPTIONS')) response['204'] = { description: 'No Content', type: 'null' };
      else response['2xx'] = { description: 'Success' };
    }
    for (const range of ['4xx', '5xx']) response[range] ??= body;
  });
}
