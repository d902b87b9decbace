import type { Selectable } from 'kysely';
import type { CatalogObject } from './types.js';
import type { ObjectsTable } from './schema.js';

/** A stored timestamp back to a Date, whichever way the driver returned it. */
export function toDate(value: Date | number | string): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  return /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
}

/** bigint columns come back from `pg` as strings; sizes stay well inside 2^53. */
export function toNumber(value: number | string | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

export function toCatalogObject(row: Selectable<ObjectsTable>): CatalogObject {
  return {
    id: row.id,
    key: row.key,
    segment: row.segment,
    size: toNumber(row.size),
    contentType: row.content_type,
    etag: row.etag,
    sha256: row.sha256,
    owner: row.owner,
    location: row.location,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}
