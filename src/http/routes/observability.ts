import type { FastifyInstance } from 'fastify';
import { StorageError } from '../../core/errors.js';
import { estimateMonthlyCost, loadPrices } from '../../service/cost.js';
import type { Storage } from '../../service/storage.js';

/** What operators and their tools poll: performance, Prometheus metrics, liveness, readiness. */
export async function observabilityRoutes(app: FastifyInstance, storage: Storage, metricsText = () => storage.metrics.metrics()) {
  const prices = loadPrices(storage.config.env.BHIV_PRICE_TABLE_FILE);

  app.get(
    '/observability/performance',
    {
      schema: {
        summary: 'Per backend and operation: counts, success/failure rates, bytes, throughput, latency percentiles, errors by code; utilisation and a monthly cost estimate',
        tags: ['observability'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (request) => {
      const backends = storage.performance.summary();
      const primary = backends[storage.backend.kind] ?? {};
      // Only what the caller may read: totals must not reveal the size of anyone else's files.
      const utilisation = await storage.stats(request.principal);
      const cost = estimateMonthlyCost(prices[storage.config.backend], {
        storedBytes: utilisation.total.bytes,
        egressBytes: primary.get?.bytes ?? 0,
        puts: primary.put?.count ?? 0,
        gets: primary.get?.count ?? 0,
        sinceMs: Date.now() - storage.performance.since.getTime(),
      });
      return { since: storage.performance.since.toISOString(), backend: storage.config.backend, backends, utilisation, monthlyCostEstimate: cost };
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics (with BHIV_METRICS_TOKEN set: only for that bearer token or a service_role token)', tags: ['observability'], response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } } }, async (request, reply) => {
    if (storage.config.security.metricsToken !== undefined && !request.metricsScrape && request.principal.role !== 'service_role') {
      throw new StorageError('Unauthenticated', 'GET /metrics needs "Authorization: Bearer <BHIV_METRICS_TOKEN>" (or a service_role token)');
    }
    reply.type(storage.metrics.contentType);
    return metricsText();
  });

  app.get('/healthz', { schema: { summary: 'The process is alive', tags: ['observability'], response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, async () => ({ ok: true }));

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'The backend and catalog are reachable',
        tags: ['observability'],
        response: { 200: { type: 'object', additionalProperties: true }, 503: { type: 'object', additionalProperties: true } },
      },
    },
    async (_request, reply) => {
      const status = await storage.status();
      const ready = status.backend.health.ok && status.catalog.ok;
      return reply.code(ready ? 200 : 503).send({ ready, backend: status.backend.health, catalog: status.catalog });
    },
  );
}
