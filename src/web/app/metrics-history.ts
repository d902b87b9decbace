import type { BackendOperations } from './types.js';

/**
 * Turns the cumulative counters of `/observability/performance` into a short in-browser
 * history: each poll becomes one sample of rates over the interval since the previous one.
 * Health probes are left out of the traffic figures: the dashboard's own status polling
 * makes them, and they would drown real traffic on an idle service. Pure: no DOM.
 */
export interface Sample {
  at: number;
  opsPerSecond: number;
  bytesPerSecond: number;
  /** Failed operations over all operations in the interval; null when there were none. */
  errorRate: number | null;
  /** p95 latency of the operations active in the interval (their recent window), weighted by activity. */
  latencyP95Ms: number | null;
}

interface Totals {
  at: number;
  ops: Map<string, { count: number; failures: number; bytes: number; p95: number | null }>;
}

const PROBES = new Set(['health']);

function totalsOf(backends: BackendOperations, at: number): Totals {
  const ops: Totals['ops'] = new Map();
  for (const [backend, operations] of Object.entries(backends)) {
    for (const [op, s] of Object.entries(operations)) {
      if (PROBES.has(op)) continue;
      ops.set(`${backend}/${op}`, { count: s.count, failures: Math.round(s.count * s.failureRate), bytes: s.bytes, p95: s.latencyMs.p95 });
    }
  }
  return { at, ops };
}

export class MetricsHistory {
  readonly samples: Sample[] = [];
  private previous?: Totals;

  constructor(readonly capacity = 60) {}

  /** Adds a poll's counters; returns the new sample, or undefined for the first poll or after a service restart. */
  push(backends: BackendOperations, at = Date.now()): Sample | undefined {
    const current = totalsOf(backends, at);
    const previous = this.previous;
    this.previous = current;
    if (!previous || at <= previous.at) return undefined;
    let ops = 0;
    let failures = 0;
    let bytes = 0;
    let weighted = 0;
    let weight = 0;
    for (const [id, now] of current.ops) {
      const before = previous.ops.get(id) ?? { count: 0, failures: 0, bytes: 0 };
      const count = now.count - before.count;
      if (count < 0) return this.restart();
      ops += count;
      failures += Math.max(0, now.failures - before.failures);
      bytes += Math.max(0, now.bytes - before.bytes);
      if (count > 0 && now.p95 !== null) {
        weighted += now.p95 * count;
        weight += count;
      }
    }
    for (const id of previous.ops.keys()) if (!current.ops.has(id)) return this.restart();
    const seconds = (at - previous.at) / 1000;
    const sample: Sample = {
      at,
      opsPerSecond: ops / seconds,
      bytesPerSecond: bytes / seconds,
      errorRate: ops > 0 ? failures / ops : null,
      latencyP95Ms: weight > 0 ? weighted / weight : null,
    };
    this.samples.push(sample);
    if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
    return sample;
  }

  /** Counters went backwards: the service restarted. The next poll starts a fresh interval. */
  private restart(): undefined {
    return undefined;
  }
}
