import type { Command } from 'commander';
import { SERVICE } from '../auth/principal.js';
import { type Config, loadConfig } from '../config/index.js';
import { readNumber } from '../config/parse.js';
import { spareResponsesInProgress } from '../http/idle-closer.js';
import { buildServer } from '../http/server.js';
import { type Storage, createStorage } from '../service/storage.js';
import { isClusterWorker, joinCluster, runPrimary } from './serve-cluster.js';

const SERVICE_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
const MAX_WORKERS = 64;

export function registerServe(program: Command) {
  program
    .command('serve')
    .description('Run the HTTP service (PORT, HOST, BHIV_STORAGE_BACKEND…)')
    .option('--port <port>', 'listen on this port (overrides PORT)')
    .option('--host <host>', 'listen on this address (overrides HOST)')
    .option('--workers <n>', `processes serving requests, e.g. one per core (overrides BHIV_WORKERS; default 1, at most ${MAX_WORKERS})`)
    .option('--log', 'log every request as JSON')
    .action(async (opts: { port?: string; host?: string; workers?: string; log?: boolean }) => {
      if (opts.port) process.env.PORT = opts.port;
      if (opts.host) process.env.HOST = opts.host;
      if (opts.workers !== undefined) process.env.BHIV_WORKERS = opts.workers;
      const config = loadConfig();
      const workers = readNumber(config.env, 'BHIV_WORKERS', 1, { min: 1, max: MAX_WORKERS, integer: true });
      if (isClusterWorker()) return serveHere(config, { log: opts.log === true, inCluster: true });
      if (workers === 1) return serveHere(config, { log: opts.log === true, inCluster: false });
      // Folders, catalog schema and the signing secret are set up once, here, before any
      // worker starts: workers racing to create the secret would each make their own.
      const setup = await createStorage({ config });
      const firstToken = await operatorToken(setup);
      await setup.close();
      const code = await runPrimary(workers, {
        listening: (url) => announce(config, url, `${workers} workers`, firstToken, setup.catalog.dialect),
      });
      process.exit(code);
    });
}

/** Serves in this process: the whole service, or one worker of `serve --workers N`. */
async function serveHere(config: Config, opts: { log: boolean; inCluster: boolean }) {
  // Installed before anything else: a stop asked for while starting is carried out once listening.
  const stop: { asked?: string; now?: (reason: string) => void } = {};
  const askToStop = (reason: string) => (stop.now ? stop.now(reason) : (stop.asked ??= reason));
  process.on('SIGTERM', () => askToStop('SIGTERM'));
  process.on('SIGINT', () => askToStop('SIGINT'));

  const storage = await createStorage({ config, background: true });
  const shutdownMs = readNumber(storage.config.env, 'BHIV_SHUTDOWN_TIMEOUT_MS', 10_000, { min: 0, max: 3_600_000, integer: true });
  const metricsText = opts.inCluster ? joinCluster(storage.metrics, () => askToStop('stop asked by the primary')) : undefined;
  const app = await buildServer(storage, { logger: opts.log, metricsText });
  spareResponsesInProgress(app.server);
  // Stop: refuse new requests, let in-flight ones finish (up to the timeout), stop the replayer
  // after its round, close backends and catalog, log the final counters (a last scrape may
  // never come). Alone, a second signal exits at once; in a cluster a worker hears of one stop
  // several ways (its own signal from the process group, the primary's message), so repeats
  // are ignored and the primary kills it on the operator's second signal.
  let closing = false;
  stop.now = (reason: string) => {
    if (closing) {
      if (opts.inCluster) return;
      console.error(`${reason} again: exiting now`);
      process.exit(1);
    }
    closing = true;
    void shutdown(reason);
  };
  const shutdown = async (reason: string) => {
    console.log(`${reason}: refusing new requests, finishing in-flight ones (up to ${shutdownMs} ms)…`);
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
  const address = await app.listen({ host: storage.config.host, port: storage.config.port });
  if (stop.asked !== undefined) return stop.now(stop.asked);
  if (!opts.inCluster) await announce(storage.config, address, undefined, await operatorToken(storage), storage.catalog.dialect);
}

/** First start without JWT_SECRET: a token to hand the operator, as Jupyter does. */
async function operatorToken(storage: Storage & { secretCreated: boolean }): Promise<string | undefined> {
  if (!storage.secretCreated || !storage.jwt.canMint) return undefined;
  return storage.jwt.mint({ role: SERVICE.role, sub: 'operator', ttlSeconds: SERVICE_TOKEN_TTL_SECONDS });
}

function announce(config: Config, address: string, how: string | undefined, token: string | undefined, catalog: string) {
  const base = config.env.PUBLIC_URL ? config.publicUrl : address;
  console.log(`bucketgate listening on ${address} (backend: ${config.backend}, catalog: ${catalog}${how ? `, ${how}` : ''})`);
  console.log(`API docs: ${base}/docs`);
  if (token) {
    console.log(`Service token (valid 30 days; mint more with "bucketgate token"):\n  ${token}`);
    console.log(`Dashboard: ${base}/#token=${token}`);
  }
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
