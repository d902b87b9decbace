import type { Backend } from '../core/backend.js';

/** A layer takes a backend and returns one (OpenDAL's model): metrics ∘ retry ∘ fallback ∘ backend. */
export type Layer = (inner: Backend) => Backend;

export const BACKEND_OPERATIONS = ['put', 'get', 'head', 'delete', 'deleteMany', 'list', 'copy', 'move', 'presign', 'health'] as const;
export type BackendOperation = (typeof BACKEND_OPERATIONS)[number];
