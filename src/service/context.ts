import type { Policy } from '../auth/policy.js';
import type { RequestSigner } from '../auth/signing.js';
import type { Catalog, CatalogObject } from '../catalog/types.js';
import type { Config, SegmentConfig } from '../config/index.js';
import type { Backend } from '../core/backend.js';
import { StorageError } from '../core/errors.js';
import type { KeyRules } from '../core/keys.js';
import type { SmallObjectCache } from './small-objects.js';

/** What the service's parts share: one backend (with its layers), one catalog, one policy. */
export interface ServiceContext {
  config: Config;
  backend: Backend;
  catalog: Catalog;
  keys: KeyRules;
  policy: Policy;
  signer: RequestSigner;
  /** Small objects' bytes by key and SHA-256 (BHIV_SMALL_OBJECT_CACHE_MB; absent when 0). */
  smallObjects?: SmallObjectCache;
}

/** The public face of a stored object, as the API returns it. */
export interface StoredObject {
  id: string;
  key: string;
  segment: string;
  filename: string;
  size: number;
  contentType: string;
  etag: string;
  sha256: string | null;
  owner: string | null;
  createdAt: string;
  updatedAt: string;
  url: string;
}

export function segmentOf(ctx: ServiceContext, name: unknown): SegmentConfig {
  const segment = ctx.config.segments.find((s) => s.name === name);
  if (!segment) throw new StorageError('InvalidKey', `unknown segment ${JSON.stringify(name)} (known: ${ctx.keys.segments.join(', ')})`);
  return segment;
}

export function toStored(ctx: ServiceContext, row: CatalogObject): StoredObject {
  return {
    id: row.id,
    key: row.key,
    segment: row.segment,
    filename: row.key.slice(row.segment.length + 1),
    size: row.size,
    contentType: row.contentType,
    etag: row.etag,
    sha256: row.sha256,
    owner: row.owner,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    url: `${ctx.config.publicUrl}/cdn/download/${row.id}`,
  };
}
