import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * `bucketgate serve --workers N`: N processes share the listening socket (node:cluster), as
 * nginx's worker_processes do, so every core serves requests. The primary only supervises:
 * it starts the workers, restarts one that dies, passes a stop signal on and waits for them,
 * and answers /metrics for all of them (prom-client's AggregatorRegistry sums the workers'
 * counters and histograms). Each worker is a whole service instance over the same bucket and
 * catalog, which bucketgate already supports (rate limits and /observability/performance are
 * per worker).
 */
const METRICS_REQUEST = 'bucketgate:cluster-metrics';
/** A worker that died after it had served is replaced after this pause (no tight crash loop). */
const RESTART_DELAY_MS = 1_000;

export interface PrimaryAnnouncement {
  /** Called once, when every worker listens: the URL they listen on. */
  listening(url: string): Promise<void> | void;
}

/** Runs the supervising process until every worker has stopped; resolves to the exit code. */
export function runPrimary(workers: number, announce: PrimaryAnnouncement): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const listened = new Set<number>();
  let announced = false;
  let stopping = false;
  let exitCode = 0;

  return new Promise((resolve) => {
    const startOne = () => {
      if (!stopping) cluster.fork();
    };

    // Announced once every first worker listens; a replacement says so when it does.
    cluster.on('listening', (worker, address) => {
      listened.add(worker.id);
      if (announced) {
        console.log(`worker ${worker.process.pid} listening`);
        return;
      }
      if (listened.size < workers) return;
      announced = true;
      const host = address.address?.includes(':') ? `[${address.address}]` : address.address;
      void announce.listening(`http://${host}:${address.port}`);
    });

    cluster.on('message', (worker: Worker, message: { type?: string; id?: string }) => {
      if (message?.type !== METRICS_REQUEST) return;
      aggregator.clusterMetrics().then(
        (text) => worker.send({ type: METRICS_REQUEST, id: message.id, text }),
        (err: Error) => worker.send({ type: METRICS_REQUEST, id: message.id, error: err.message }),
      );
    });

    cluster.on('exit', (worker, code, signal) => {
      // The exit code says how the stop went; a worker replaced earlier does not count.
      if (stopping && code !== 0) exitCode = 1;
      if (!stopping) {
        const how = signal ? `signal ${signal}` : `code ${code}`;
        // One that never listened (port taken, bad configuration) would fail again: give up.
        if (!listened.has(worker.id)) {
          console.error(`a worker exited (${how}) before it listened: stopping`);
          exitCode = 1;
          stop();
        } else {
          console.error(`worker ${worker.process.pid} exited (${how}): starting another in ${RESTART_DELAY_MS} ms`);
          setTimeout(startOne, RESTART_DELAY_MS);
        }
      }
      if (stopping && Object.keys(cluster.workers ?? {}).length === 0) resolve(exitCode);
    });

    // One signal: every worker shuts down gracefully (its own timeout applies). A second: now.
    // Workers ignore SIGINT themselves (see ignoreTerminalInterrupt), so a Ctrl-C that reaches
    // the whole process group is one stop, not two.
    const stop = () => {
      const now = stopping;
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(now ? 'SIGKILL' : 'SIGTERM');
      if (Object.keys(cluster.workers ?? {}).length === 0) resolve(exitCode);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);

    for (let i = 0; i < workers; i++) startOne();
  });
}

/**
 * In a worker: lets the primary read this worker's registry, and returns what /metrics should
 * answer — the sum over all workers, asked of the primary.
 */
export function clusterMetricsText(registry: Registry, timeoutMs = 5_000): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // registers the worker's side of the exchange
  const waiting = new Map<string, { resolve(text: string): void; reject(err: Error): void }>();
  process.on('message', (message: { type?: string; id?: string; text?: string; error?: string }) => {
    if (message?.type !== METRICS_REQUEST || !message.id) return;
    const waiter = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.text ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the primary process did not answer for the metrics'));
      }, timeoutMs);
      waiting.set(id, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      process.send?.({ type: METRICS_REQUEST, id });
    });
}
