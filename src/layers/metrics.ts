import { Counter, Histogram, type Registry } from 'prom-client';
import type { Backend } from '../core/backend.js';
import { isStorageError } from '../core/errors.js';
import type { ObjectInfo } from '../core/types.js';
import type { Layer } from './layer.js';
import type { PerformanceRecorder } from './performance.js';

export interface BackendMetrics {
  operations: Counter<'backend' | 'operation' | 'outcome' | 'code'>;
  bytes: Counter<'backend' | 'operation'>;
  seconds: Histogram<'backend' | 'operation'>;
}

export function registerBackendMetrics(registry: Registry): BackendMetrics {
  return {
    operations: new Counter({
      name: 'bucketgate_backend_operations_total',
      help: 'Backend operations by outcome and error code',
      labelNames: ['backend', 'operation', 'outcome', 'code'],
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'bucketgate_backend_bytes_total',
      help: 'Bytes written (put) and read (get) through the backend',
      labelNames: ['backend', 'operation'],
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'bucketgate_backend_operation_seconds',
      help: 'Backend operation latency (for get: until the body starts)',
      labelNames: ['backend', 'operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
  };
}

/** Records every call into Prometheus and the performance recorder; changes nothing else. */
export function metricsLayer(metrics: BackendMetrics, recorder: PerformanceRecorder, label?: string): Layer {
  return (inner: Backend): Backend => {
    const backend = label ?? inner.kind;
    async function timed<T>(operation: string, run: () => Promise<T>, bytesOf?: (r: T) => number): Promise<T> {
      const started = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        const result = await run();
        const s = seconds();
        const bytes = bytesOf?.(result) ?? 0;
        metrics.operations.inc({ backend, operation, outcome: 'success', code: '' });
        metrics.seconds.observe({ backend, operation }, s);
        if (bytes) metrics.bytes.inc({ backend, operation }, bytes);
        recorder.record(backend, operation, s, { bytes });
        return result;
      } catch (err) {
        const code = isStorageError(err) ? err.code : 'Internal';
        const s = seconds();
        metrics.operations.inc({ backend, operation, outcome: 'failure', code });
        metrics.seconds.observe({ backend, operation }, s);
        recorder.record(backend, operation, s, { errorCode: code });
        throw err;
      }
    }
    const size = (info: ObjectInfo) => info.size;
    return {
      kind: inner.kind,
      capabilities: inner.capabilities,
      put: (key, body, opts) => timed('put', () => inner.put(key, body, opts), size),
      get: (key, opts) =>
        timed('get', () => inner.get(key, opts), (r) => (r.range ? r.range.end - r.range.start + 1 : r.info.size)),
      head: (key) => timed('head', () => inner.head(key)),
      delete: (key) => timed('delete', () => inner.delete(key)),
      deleteMany: (keys) => timed('deleteMany', () => inner.deleteMany(keys)),
      list: (prefix, opts) => timed('list', () => inner.list(prefix, opts)),
      copy: (from, to, opts) => timed('copy', () => inner.copy(from, to, opts), size),
      move: (from, to, opts) => timed('move', () => inner.move(from, to, opts)),
      presign: (key, opts) => timed('presign', () => inner.presign(key, opts)),
      health: () => timed('health', () => inner.health()),
      close: () => inner.close(),
    };
  };
}
