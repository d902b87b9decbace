import type { Backend } from '../core/backend.js';
import type { BackendOperation } from './layer.js';

/**
 * Runs every call of `inner` through `around(operation, key, call)`, so a layer that treats
 * all operations alike (faults, retry, circuit) is written once. `key` is the first key the
 * call names ('' for health). Layers that need per-operation behaviour override entries.
 */
export function forwardAll(
  inner: Backend,
  around: <T>(operation: BackendOperation, key: string, call: () => Promise<T>) => Promise<T>,
  kind: string = inner.kind,
): Backend {
  return {
    kind,
    capabilities: inner.capabilities,
    put: (key, body, opts) => around('put', key, () => inner.put(key, body, opts)),
    get: (key, opts) => around('get', key, () => inner.get(key, opts)),
    head: (key) => around('head', key, () => inner.head(key)),
    delete: (key) => around('delete', key, () => inner.delete(key)),
    deleteMany: (keys) => around('deleteMany', keys[0] ?? '', () => inner.deleteMany(keys)),
    list: (prefix, opts) => around('list', prefix, () => inner.list(prefix, opts)),
    copy: (from, to, opts) => around('copy', from, () => inner.copy(from, to, opts)),
    move: (from, to, opts) => around('move', from, () => inner.move(from, to, opts)),
    presign: (key, opts) => around('presign', key, () => inner.presign(key, opts)),
    health: () => around('health', '', () => inner.health()),
    close: () => inner.close(),
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
