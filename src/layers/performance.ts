/**
 * In-process record of backend operations for `/observability/performance`: counts,
 * outcomes, bytes, and a sliding window of latencies for percentiles. Prometheus gets the
 * same events through prom-client; this keeps what the JSON report needs without scraping.
 */
const WINDOW = 2048;

interface OperationRecord {
  count: number;
  failures: number;
  bytes: number;
  totalSeconds: number;
  errors: Record<string, number>;
  latencies: number[];
  next: number;
}

export interface OperationSummary {
  count: number;
  successRate: number;
  failureRate: number;
  bytes: number;
  throughputMiBps: number | null;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  errors: Record<string, number>;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)]! * 1000 * 100) / 100;
}

export class PerformanceRecorder {
  private readonly records = new Map<string, OperationRecord>();
  readonly since = new Date();

  record(backend: string, op: string, seconds: number, outcome: { bytes?: number; errorCode?: string }): void {
    const id = `${backend}\u0000${op}`;
    let r = this.records.get(id);
    if (!r) {
      r = { count: 0, failures: 0, bytes: 0, totalSeconds: 0, errors: {}, latencies: [], next: 0 };
      this.records.set(id, r);
    }
    r.count += 1;
    r.totalSeconds += seconds;
    r.bytes += outcome.bytes ?? 0;
    if (outcome.errorCode) {
      r.failures += 1;
      r.errors[outcome.errorCode] = (r.errors[outcome.errorCode] ?? 0) + 1;
    }
    if (r.latencies.length < WINDOW) r.latencies.push(seconds);
    else r.latencies[r.next] = seconds;
    r.next = (r.next + 1) % WINDOW;
  }

  /** `{ [backend]: { [operation]: summary } }`. */
  summary(): Record<string, Record<string, OperationSummary>> {
    const out: Record<string, Record<string, OperationSummary>> = {};
    for (const [id, r] of this.records) {
      const [backend, op] = id.split('\u0000') as [string, string];
      const sorted = [...r.latencies].sort((a, b) => a - b);
      (out[backend] ??= {})[op] = {
        count: r.count,
        successRate: r.count ? (r.count - r.failures) / r.count : 1,
        failureRate: r.count ? r.failures / r.count : 0,
        bytes: r.bytes,
        throughputMiBps: r.bytes > 0 && r.totalSeconds > 0 ? r.bytes / 1048576 / r.totalSeconds : null,
        latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) },
        errors: { ...r.errors },
      };
    }
    return out;
  }
}
