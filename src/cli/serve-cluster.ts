import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

/**
 * `bucketgate serve --workers N`: N processes share the listening socket (node:cluster), as
 * nginx's worker_processes do, so every core serves requests. The primary only supervises:
 * it starts the workers, replaces one that dies, asks them to stop and waits for them, and
 * answers /metrics for all of them (the workers' registries added up). Each worker is a whole
 * service instance over the same bucket and catalog, which bucketgate already supports (rate
 * limits and /observability/performance are per worker).
 *
 * Stops travel as messages, not signals: a SIGTERM sent to the whole process group (systemd,
 * `kill -- -PGID`, Ctrl-C) reaches every worker as well as the primary, and each must still
 * stop once, gracefully.
 */
const STOP = 'bucketgate:stop';
const METRICS = 'bucketgate:metrics';
/** Set in the environment of the workers this primary starts (and only of those). */
const WORKER_MARK = 'BUCKETGATE_CLUSTER_WORKER';
/** A worker that died after it had served is replaced after this pause (no tight crash loop). */
const RESTART_DELAY_MS = 1_000;
/** The primary's wait for every worker's metrics; a worker's wait for the primary is longer. */
const METRICS_TIMEOUT_MS = 4_000;

/** Whether this process is a worker started by runPrimary (not by pm2 or another cluster user). */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_MARK] === '1';
}

export interface PrimaryAnnouncement {
  /** Called once, when every first worker listens: the URL they listen on. */
  listening(url: string): Promise<void> | void;
}

/** Sends to a worker unless its channel is gone (a worker dying meanwhile must not crash the primary). */
function tell(worker: Worker, message: object): void {
  if (worker.isConnected()) worker.send(message, () => undefined);
}

/** Runs the supervising process until every worker has stopped; resolves to the exit code. */
export function runPrimary(workers: number, announce: PrimaryAnnouncement): Promise<number> {
  const live = new Set<Worker>();
  const ready = new Set<Worker>();
  let announced = false;
  let stopping = false;
  let signalled = false;
  let exitCode = 0;
  let settle: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (settle = resolve));

  const startOne = () => {
    if (stopping) return;
    live.add(cluster.fork({ [WORKER_MARK]: '1' }));
  };

  // The "listening" line once every first worker listens; a replacement says so when it does.
  cluster.on('listening', (worker, address) => {
    ready.add(worker);
    if (announced) {
      console.log(`worker ${worker.process.pid} listening`);
      return;
    }
    if (ready.size < workers) return;
    announced = true;
    const host = address.address?.includes(':') ? `[${address.address}]` : address.address;
    Promise.resolve(announce.listening(`http://${host}:${address.port}`)).catch((err: unknown) => console.error(`announcing failed: ${String(err)}`));
  });

  cluster.on('message', (worker: Worker, message: { type?: string; id?: string }) => {
    if (message?.type !== METRICS || typeof message.id !== 'string') return;
    const id = message.id;
    gatherMetrics([...ready]).then(
      (text) => tell(worker, { type: METRICS, id, text }),
      (err: Error) => tell(worker, { type: METRICS, id, error: err.message }),
    );
  });

  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    ready.delete(worker);
    // The exit code says how the stop went; a worker replaced earlier does not count.
    if (stopping && code !== 0) exitCode = 1;
    if (!stopping) {
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (!announced) {
        // A first worker that never listened (port taken, bad configuration) would fail again.
        console.error(`a worker exited (${how}) before it listened: stopping`);
        exitCode = 1;
        stop();
      } else {
        console.error(`worker ${worker.process.pid} exited (${how}): starting another in ${RESTART_DELAY_MS} ms`);
        setTimeout(startOne, RESTART_DELAY_MS);
      }
    }
    if (stopping && live.size === 0) settle(exitCode);
  });

  /** Every worker finishes its requests and exits (each with its own timeout). */
  function stop() {
    stopping = true;
    for (const worker of live) tell(worker, { type: STOP });
    if (live.size === 0) settle(exitCode);
  }
  // A second signal from the operator: now.
  const onSignal = () => {
    if (signalled) {
      for (const worker of live) worker.process.kill('SIGKILL');
      return;
    }
    signalled = true;
    stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  for (let i = 0; i < workers; i++) startOne();
  return done;
}

/** One scrape: every listening worker's registry, added up (prom-client's cluster aggregation). */
function gatherMetrics(workers: Worker[]): Promise<string> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const answers: MetricObjectWithValues<MetricValue<string>>[][] = [];
    let waiting = workers.length;
    const asked = new Set(workers);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      cluster.off('message', onAnswer);
      cluster.off('exit', onExit);
      if (err) reject(err);
      else AggregatorRegistry.aggregate(answers).metrics().then(resolve, reject);
    };
    const onAnswer = (worker: Worker, m: { type?: string; id?: string; metrics?: MetricObjectWithValues<MetricValue<string>>[]; error?: string }) => {
      if (m?.type !== `${METRICS}:answer` || m.id !== id || !asked.delete(worker)) return;
      if (m.error !== undefined) return finish(new Error(m.error));
      answers.push(m.metrics ?? []);
      if (--waiting === 0) finish();
    };
    // A worker that dies before answering is left out (its counters die with it anyway).
    const onExit = (worker: Worker) => {
      if (asked.delete(worker) && --waiting === 0) finish();
    };
    const timer = setTimeout(() => finish(new Error(`${waiting} worker(s) did not send their metrics within ${METRICS_TIMEOUT_MS} ms`)), METRICS_TIMEOUT_MS);
    cluster.on('message', onAnswer);
    cluster.on('exit', onExit);
    if (waiting === 0) return finish();
    for (const worker of workers) tell(worker, { type: `${METRICS}:ask`, id });
  });
}

/**
 * In a worker: answers the primary's requests for this worker's metrics and stop requests
 * (`onStop`, which must be idempotent), and returns what /metrics should answer — the sum over
 * all workers, asked of the primary.
 */
export function joinCluster(registry: Registry, onStop: () => void): () => Promise<string> {
  const waiting = new Map<string, { resolve(text: string): void; reject(err: Error): void }>();
  process.on('message', (message: { type?: string; id?: string; text?: string; error?: string }) => {
    if (message?.type === STOP) return onStop();
    if (message?.type === `${METRICS}:ask` && message.id) {
      const id = message.id;
      registry.getMetricsAsJSON().then(
        (metrics) => process.send?.({ type: `${METRICS}:answer`, id, metrics }, undefined, undefined, () => undefined),
        (err: Error) => process.send?.({ type: `${METRICS}:answer`, id, error: err.message }, undefined, undefined, () => undefined),
      );
      return;
    }
    if (message?.type !== METRICS || !message.id) return;
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
      }, METRICS_TIMEOUT_MS + 2_000);
      waiting.set(id, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      process.send?.({ type: METRICS, id }, undefined, undefined, () => undefined);
    });
}
