import { realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createLocalBackend } from '../backends/local/index.js';
import type { Catalog } from '../catalog/types.js';
import type { Config } from '../config/index.js';
import { configError, readChoice, readNumber, readString } from '../config/parse.js';
import type { Backend } from '../core/backend.js';
import { KeyRules } from '../core/keys.js';
import { BackendCircuit, type CircuitOptions, circuitLayer } from '../layers/circuit.js';
import { BLOB_SEGMENT, fallbackLayer } from '../layers/fallback.js';
import { FaultInjector, faultLayer, parseFaultPlan } from '../layers/faults.js';
import { sweepOrphanBlobs } from '../layers/orphans.js';
import { type BufferOptions, bufferBodiesLayer } from '../layers/replayable.js';
import { DEFAULT_REPLAYER, Replayer } from '../layers/replayer.js';
import { type RetryOptions, retryLayer } from '../layers/retry.js';

/**
 * The resilience stack around the configured backend (issue 6), outermost first:
 *   metrics (added by Storage) ∘ buffer ∘ fallback ∘ circuit ∘ retry ∘ [faults] ∘ backend
 * - buffer: bodies up to BHIV_RETRY_BUFFER_MB become replayable, so an upload through the
 *   service survives transient failures (retry) and outages (fallback) without the client
 *   sending it again; larger bodies stream once, memory stays flat.
 * - fallback: writes the primary cannot take go to local disk + the catalog's outbox; the
 *   replayer moves them back. The circuit is inside it, so an open circuit diverts at once.
 * - circuit outside retry: it counts calls that failed after their retries.
 * - faults (BHIV_FAULTS, for tests and drills only) sits right on the backend, so every layer
 *   above meets the failures a real backend would give.
 */
export interface ResilienceConfig {
  retry: RetryOptions;
  circuit: CircuitOptions;
  buffer: BufferOptions;
  fallback: { kind: 'local'; path: string } | { kind: 'none' };
  replayIntervalMs: number;
  /** A fault plan as JSON, or `@/path/to/plan.json` (re-read when it changes). */
  faults: string | undefined;
}

const MB = 1024 * 1024;

export function resilienceConfig(config: Config): ResilienceConfig {
  const env = config.env;
  const ms = (name: string, fallback: number, min = 0, max = 3_600_000) => readNumber(env, name, fallback, { min, max, integer: true });
  const kind = readChoice(env, 'BHIV_FALLBACK_BACKEND', ['local', 'none'] as const, 'local')!;
  const faults = readString(env, 'BHIV_FAULTS');
  if (faults !== undefined && !faults.startsWith('@')) {
    try {
      parseFaultPlan(faults);
    } catch {
      throw configError('BHIV_FAULTS', 'a JSON fault plan with a numeric "seed", or @<file>', faults);
    }
  }
  return {
    retry: {
      attempts: readNumber(env, 'BHIV_RETRY_ATTEMPTS', 4, { min: 1, max: 20, integer: true }),
      initialDelayMs: ms('BHIV_RETRY_BASE_DELAY_MS', 50, 1, 60_000),
      maxDelayMs: ms('BHIV_RETRY_MAX_DELAY_MS', 2000, 1, 300_000),
      maxTotalMs: ms('BHIV_RETRY_MAX_TIME_MS', 15_000, 1),
      attemptTimeoutMs: ms('BHIV_BACKEND_TIMEOUT_MS', 10_000, 10),
    },
    circuit: {
      failures: readNumber(env, 'BHIV_CIRCUIT_FAILURES', 5, { min: 1, max: 1000, integer: true }),
      halfOpenAfterMs: ms('BHIV_CIRCUIT_HALF_OPEN_MS', 5000, 10),
    },
    buffer: {
      maxBytes: Math.floor(readNumber(env, 'BHIV_RETRY_BUFFER_MB', 8, { min: 0, max: 1024 }) * MB),
      budgetBytes: Math.floor(readNumber(env, 'BHIV_RETRY_BUFFER_TOTAL_MB', 256, { min: 0, max: 64 * 1024 }) * MB),
    },
    fallback: kind === 'none' ? { kind } : { kind, path: resolve(readString(env, 'BHIV_FALLBACK_PATH') ?? join(config.bucketPath, '.bucketgate', 'fallback')) },
    replayIntervalMs: ms('BHIV_REPLAY_INTERVAL_MS', DEFAULT_REPLAYER.intervalMs, 10),
    faults,
  };
}

export class Resilience {
  private replayStarted = false;

  private constructor(
    readonly settings: ResilienceConfig,
    /** The whole stack but metrics. */
    readonly backend: Backend,
    readonly circuit: BackendCircuit,
    readonly faults: FaultInjector | undefined,
    readonly fallback: { backend: Backend; id: string; replayer: Replayer; catalog: Catalog; replaying: { on: boolean } } | undefined,
    private readonly counters: { retries: Counter<'operation'>; diverted: Counter<'operation'>; replayed: Counter<'outcome'> },
  ) {}

  /**
   * `divert`: when an outage diverts writes to the fallback — once this process replays them
   * (`start()`, the default), or always, for a caller that drives the replayer itself (runOnce).
   */
  static async create(config: Config, raw: Backend, catalog: Catalog, opts: { divert?: 'when-replaying' | 'always' } = {}): Promise<Resilience> {
    const settings = resilienceConfig(config);
    const counters = {
      retries: new Counter({ name: 'bucketgate_backend_retries_total', help: 'Backend calls retried after a transient failure', labelNames: ['operation'] as const, registers: [] }),
      diverted: new Counter({ name: 'bucketgate_fallback_writes_total', help: 'Writes the primary could not take, kept on the fallback and queued in the outbox', labelNames: ['operation'] as const, registers: [] }),
      replayed: new Counter({ name: 'bucketgate_outbox_replayed_total', help: 'Outbox entries handled by the replayer, by outcome', labelNames: ['outcome'] as const, registers: [] }),
    };
    const faults = settings.faults
      ? settings.faults.startsWith('@')
        ? FaultInjector.fromFile(settings.faults.slice(1))
        : new FaultInjector(parseFaultPlan(settings.faults))
      : undefined;
    const circuit = new BackendCircuit(raw.kind, settings.circuit);
    const retried = retryLayer({ ...settings.retry, onRetry: (operation) => counters.retries.inc({ operation }) });
    const primary = circuitLayer(circuit)(retried(faults ? faultLayer(faults)(raw) : raw));
    if (settings.fallback.kind === 'none') {
      return new Resilience(settings, bufferBodiesLayer(settings.buffer)(primary), circuit, faults, undefined, counters);
    }
    // Writes are diverted in an outage only once this process replays them (start()).
    const replaying = { on: opts.divert === 'always' };
    const fallbackBackend = await createLocalBackend({ root: settings.fallback.path, keys: new KeyRules([BLOB_SEGMENT]), encryptionKey: config.security.encryptionKey });
    const id = `local:${await realpath(settings.fallback.path)}`;
    const replayer = new Replayer({
      ...DEFAULT_REPLAYER,
      intervalMs: settings.replayIntervalMs,
      bufferBytes: settings.buffer.maxBytes,
      primary,
      fallback: fallbackBackend,
      outbox: catalog.outbox,
      fallbackId: id,
      onReplayed: (entry, outcome) => {
        counters.replayed.inc({ outcome });
        // The bytes are on the primary now; a failure here only leaves the row saying fallback until reindex.
        if (outcome === 'done' && entry.op === 'put' && entry.sha256) {
          catalog.moveLocation({ key: entry.key, sha256: entry.sha256, from: 'fallback', to: 'primary' }).catch(() => undefined);
        }
      },
    });
    const withFallback = fallbackLayer({ fallback: fallbackBackend, outbox: catalog.outbox, fallbackId: id, keys: new KeyRules(config.segments.map((s) => s.name)), divertOnOutage: () => replaying.on, onDivert: (operation) => counters.diverted.inc({ operation }) })(primary);
    return new Resilience(settings, bufferBodiesLayer(settings.buffer)(withFallback), circuit, faults, { backend: fallbackBackend, id, replayer, catalog, replaying }, counters);
  }

  /** Background work for a long-running service: sweep what a crash orphaned, then replay. */
  async start(): Promise<void> {
    if (!this.fallback || this.replayStarted) return;
    this.replayStarted = true;
    await sweepOrphanBlobs(this.fallback.backend, this.fallback.catalog.outbox, this.fallback.id).catch(() => undefined);
    this.fallback.replayer.start();
    this.fallback.replaying.on = true;
  }

  async stop(): Promise<void> {
    await this.fallback?.replayer.stop();
  }

  register(registry: Registry): void {
    this.circuit.register(registry);
    registry.registerMetric(this.counters.retries);
    registry.registerMetric(this.counters.diverted);
    registry.registerMetric(this.counters.replayed);
    const fallback = this.fallback;
    // serve --workers adds the workers' registries up; these gauges must not be summed.
    new Gauge({ name: 'bucketgate_fallback_enabled', help: '1 when writes may fall back to the fallback store', registers: [registry], aggregator: 'max' }).set(fallback ? 1 : 0);
    if (!fallback) return;
    const outbox = fallback.catalog.outbox;
    new Gauge({
      name: 'bucketgate_outbox_entries',
      help: 'Outbox entries of this fallback by state (pending: waiting for replay; failed: parked, still served from the fallback)',
      labelNames: ['state'] as const,
      registers: [registry],
      aggregator: 'first', // the catalog's count: every worker sees the same
      async collect() {
        const s = await outbox.stats(fallback.id).catch(() => undefined);
        if (!s) return;
        this.set({ state: 'pending' }, s.pending);
        this.set({ state: 'failed' }, s.failed);
      },
    });
    new Gauge({
      name: 'bucketgate_outbox_last_replay_timestamp_seconds',
      help: 'When this instance last replayed an outbox entry onto the primary',
      registers: [registry],
      aggregator: 'max',
      collect() {
        const at = fallback.replayer.status().lastReplayAt;
        if (at) this.set(Date.parse(at) / 1000);
      },
    });
  }

  /** What `/storage/status` shows under `fallback` and `circuit`. */
  async status() {
    const circuit = this.circuit.status();
    if (!this.fallback) return { circuit, fallback: { enabled: false, state: 'disabled (BHIV_FALLBACK_BACKEND=none)' } };
    const { replayer, catalog, id } = this.fallback;
    const outbox = await catalog.outbox.stats(id).catch(() => undefined);
    const replay = replayer.status();
    return {
      circuit,
      fallback: {
        enabled: true,
        kind: 'local',
        path: this.settings.fallback.kind === 'local' ? this.settings.fallback.path : undefined,
        state: outbox === undefined ? 'unknown (catalog unreachable)' : outbox.pending > 0 ? 'replay pending' : 'idle',
        pending: outbox?.pending ?? null,
        failed: outbox?.failed ?? null,
        oldestPendingAt: outbox?.oldestPendingAt?.toISOString() ?? null,
        lastReplayAt: replay.lastReplayAt ?? outbox?.lastCompletedAt?.toISOString() ?? null,
        replayer: replay,
      },
    };
  }
}
