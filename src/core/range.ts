import { StorageError } from './errors.js';
import type { ByteRange, ResolvedRange } from './types.js';

/** Resolves a range against an object's size; any range of an empty object is unsatisfiable. */
export function resolveRange(range: ByteRange, size: number): ResolvedRange {
  const unsatisfiable = () => new StorageError('RangeNotSatisfiable', `range not satisfiable for an object of ${size} bytes`, { details: { size } });
  if ('suffix' in range) {
    if (!Number.isSafeInteger(range.suffix) || range.suffix <= 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  const { start } = range;
  if (!Number.isSafeInteger(start) || start < 0 || start >= size) throw unsatisfiable();
  if (range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < start)) throw unsatisfiable();
  return { start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** The HTTP form of a range, as sent to backends that take a `Range` header. */
export function rangeHeader(range: ByteRange): string {
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ''}`;
}
