import type { Principal } from '../auth/principal.js';
import { MAX_SIGNED_TTL_SECONDS } from '../auth/signing.js';
import type { CatalogObject } from '../catalog/types.js';
import { StorageError } from '../core/errors.js';
import type { ParsedKey } from '../core/keys.js';
import type { ServiceContext } from './context.js';
import { findReadable } from './objects.js';

/**
 * Signed download links: `GET /cdn/download/{id}?expires=…&signature=…` (or `/cdn/stream/…`)
 * lets whoever holds the link read that one object until it expires, without a token. The
 * signature covers the method, the object's key (not just its id: a link dies with the object
 * it was made for) and the expiry; only someone who may read the object can have one made.
 */
export interface SignedLink {
  method: 'GET';
  url: string;
  headers: Record<string, string>;
  expiresAt: Date;
}

export const DEFAULT_SIGNED_TTL_SECONDS = 3600;

export async function signDownload(ctx: ServiceContext, id: string, principal: Principal, opts: { expiresIn?: number; mode?: 'download' | 'stream' } = {}): Promise<SignedLink> {
  const expiresIn = opts.expiresIn ?? DEFAULT_SIGNED_TTL_SECONDS;
  if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_SIGNED_TTL_SECONDS) {
    throw new StorageError('InvalidArgument', `expiresIn must be whole seconds from 1 to ${MAX_SIGNED_TTL_SECONDS}`);
  }
  const { row } = await findReadable(ctx, id, principal);
  const expires = Math.floor(Date.now() / 1000) + expiresIn;
  const signature = ctx.signer.sign({ method: 'GET', key: row.key, expiresAt: expires });
  const path = `/cdn/${opts.mode ?? 'download'}/${row.id}`;
  return { method: 'GET', url: `${ctx.config.publicUrl}${path}?expires=${expires}&signature=${signature}`, headers: {}, expiresAt: new Date(expires * 1000) };
}

/** The object a signed link names, once its signature and expiry check out; InvalidToken otherwise. */
export async function findBySignature(ctx: ServiceContext, id: string, expires: unknown, signature: unknown): Promise<{ row: CatalogObject; parsed: ParsedKey }> {
  const at = typeof expires === 'string' && /^\d{1,12}$/.test(expires) ? Number(expires) : typeof expires === 'number' ? expires : Number.NaN;
  if (!Number.isSafeInteger(at)) throw new StorageError('InvalidToken', 'signed link is malformed');
  const row = typeof id === 'string' && /^[A-Za-z0-9_-]{10,64}$/.test(id) ? await ctx.catalog.getById(id) : undefined;
  // An unknown id and a bad signature look the same: a link reveals nothing it was not made for.
  const key = row?.key ?? `unknown/${id}`;
  ctx.signer.verify({ method: 'GET', key, expiresAt: at }, signature);
  if (!row) throw new StorageError('InvalidToken', 'signature is not valid');
  return { row, parsed: ctx.keys.parse(row.key) };
}
