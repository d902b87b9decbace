import type { Command } from 'commander';
import { SERVICE } from '../auth/principal.js';
import { buildServer } from '../http/server.js';
import { readNumber } from '../config/parse.js';
import { type Storage, createStorage } from '../service/storage.js';

const SERVICE_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export function registerServe(program: Command) {
  program
    .command('serve')
    .description('Run the HTTP service (PORT, HOST, BHIV_STORAGE_BACKEND…)')
    .option('--port <port>', 'listen on this port (overrides PORT)')
    .option('--host <host>', 'listen on this address (overrides HOST)')
    .option('--log', 'log every request as JSON')
    .action(async (opts: { port?: string; host?: string; log?: boolean }) => {
      if (opts.port) process.env.PORT = opts.port;
      if (opts.host) process.env.HOST = opts.host;
      const storage = await createStorage({ background: true });
      const shutdownMs = readNumber(storage.config.env, 'BHIV_SHUTDOWN_TIMEOUT_MS', 10_000, { min: 0, max: 3_600_000, integer: true });
      const app = await buildServer(storage, { logger: opts.log === true });
      // SIGTERM: stop accepting, let in-flight requests finish (up to the timeout), stop the
      // replayer after its round, close backends and catalog, log the final counters (a last
      // scrape may never come). A second signal exits at once. Installed before listening, so a
      // supervisor that signals as soon as it reads the "listening" line still gets all this.
      let closing = false;
      const shutdown = async (signal: string) => {
        if (closing) {
          console.error(`${signal} again: exiting now`);
          process.exit(1);
        }
        closing = true;
        console.log(`${signal}: refusing new requests, finishing in-flight ones (up to ${shutdownMs} ms)…`);
        const force = setTimeout(() => {
          console.error(`shutdown took over ${shutdownMs} ms (BHIV_SHUTDOWN_TIMEOUT_MS): exiting with requests unfinished`);
          process.exit(1);
        }, shutdownMs);
        force.unref();
        // close() drops the connections idle at that moment; a keep-alive connection whose request
        // finishes later would otherwise hold the exit for its whole keep-alive timeout.
        const idle = setInterval(() => app.server.closeIdleConnections(), 50);
        idle.unref();
        let code = 0;
        try {
          await app.close();
          clearInterval(idle);
          await storage.close();
          console.log(`stopped: ${await finalCounters(storage)}`);
        } catch (err) {
          console.error(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
          code = 1;
        }
        process.exit(code);
      };
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
      const address = await app.listen({ host: storage.config.host, port: storage.config.port });
      const base = storage.config.env.PUBLIC_URL ? storage.config.publicUrl : address;
      console.log(`bucketgate listening on ${address} (backend: ${storage.config.backend}, catalog: ${storage.catalog.dialect})`);
      console.log(`API docs: ${base}/docs`);
      if (storage.secretCreated && storage.jwt.canMint) {
        // First start without JWT_SECRET: hand the operator a way in, as Jupyter does.
        const token = await storage.jwt.mint({ role: SERVICE.role, sub: 'operator', ttlSeconds: SERVICE_TOKEN_TTL_SECONDS });
        console.log(`Service token (valid 30 days; mint more with "bucketgate token"):\n  ${token}`);
        console.log(`Dashboard: ${base}/#token=${token}`);
      }
    });
}

/** The service's request and backend totals, one line for the log. */
async function finalCounters(storage: Storage): Promise<string> {
  const metrics = await storage.metrics.getMetricsAsJSON();
  const total = (name: string) =>
    (metrics.find((m) => m.name === name)?.values ?? []).reduce((n, v) => n + (typeof v.value === 'number' ? v.value : 0), 0);
  return [
    `backend operations ${total('bucketgate_backend_operations_total')}`,
    `retries ${total('bucketgate_backend_retries_total')}`,
    `fallback writes ${total('bucketgate_fallback_writes_total')}`,
    `replayed ${total('bucketgate_outbox_replayed_total')}`,
  ].join(', ');
}
