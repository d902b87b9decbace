import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Principal } from '../auth/principal.js';
import { StorageError } from '../core/errors.js';
import type { PresignedRequest } from '../core/types.js';
import { normalizeContentType } from './content-type.js';
import { type ServiceContext, type StoredObject, segmentOf, toStored } from './context.js';
import { planUpload, storeBody } from './objects.js';
import { checkStoredContent } from './sniff.js';

/**
 * Upload grants: a single-use token bound to a key, a content type and a maximum size,
 * kept (hashed) in the catalog so it is single-use across every instance. The same grant
 * either carries the bytes through the service (`/cdn/upload/{token}`) or, where the
 * backend can take them directly, completes a presigned upload after checking it.
 */
export interface UploadGrant {
  token: string;
  key: string;
  segment: string;
  filename: string;
  contentType: string;
  maxBytes: number;
  expiresAt: string;
  uploadUrl: string;
  /** A presigned PUT straight to the backend, where it can take the bytes directly. */
  direct?: PresignedRequest;
}

export interface GrantRequest {
  segment: string;
  filename: string;
  /** Guessed from the file name when absent. */
  contentType?: string;
  /** Declared size; the grant's limit becomes this (never above the segment's). */
  size?: number;
  principal: Principal;
  direct?: boolean;
}

export async function createUploadGrant(ctx: ServiceContext, req: GrantRequest): Promise<UploadGrant> {
  if (req.size !== undefined && (!Number.isSafeInteger(req.size) || req.size < 0)) {
    throw new StorageError('InvalidArgument', 'size must be a whole number of bytes');
  }
  const plan = planUpload(ctx, req.segment, req.filename, { contentType: req.contentType, principal: req.principal, contentLength: req.size });
  const maxBytes = req.size ?? plan.maxBytes;
  // Whole seconds, so the expiry signed into the token is exactly the one the catalog keeps.
  const expiresAt = new Date(Math.floor(Date.now() / 1000 + ctx.config.uploadTokenTtlSeconds) * 1000);
  const token = bindToken(ctx, { key: plan.parsed.key, contentType: plan.contentType, maxBytes, expiresAt });
  await ctx.catalog.createUploadToken({ token, key: plan.parsed.key, contentType: plan.contentType, maxBytes, owner: plan.principal.sub ?? null, expiresAt });
  const grant: UploadGrant = {
    token,
    key: plan.parsed.key,
    segment: plan.segment.name,
    filename: plan.parsed.path,
    contentType: plan.contentType,
    maxBytes,
    expiresAt: expiresAt.toISOString(),
    uploadUrl: `${ctx.config.publicUrl}/cdn/upload/${token}`,
  };
  // A direct upload goes straight to the final key, so it may only create it: replacing an object
  // goes through the service (uploadUrl), which writes the new version aside and swaps it in
  // only once it passed every check. A direct PUT is create-only in the store itself; it is not
  // offered for a key that exists, and a POST policy (which cannot be create-only) never is.
  if (req.direct !== false && ctx.backend.capabilities.presign && (await absent(ctx, plan.parsed.key))) {
    const expiresIn = ctx.config.uploadTokenTtlSeconds;
    const marker = ctx.backend.capabilities.presignGrant ? { grant: grantMarker(token) } : {};
    grant.direct = await ctx.backend.presign(plan.parsed.key, { method: 'PUT', expiresIn, contentType: plan.contentType, maxBytes, createOnly: true, ...marker });
  }
  return grant;
}

/**
 * Whether the key is known to be free. A backend that cannot say (an outage) gets no direct
 * upload: the grant still works through the service, whose writes survive outages (fallback).
 */
async function absent(ctx: ServiceContext, key: string): Promise<boolean> {
  try {
    await ctx.backend.head(key);
    return false;
  } catch (err) {
    return err instanceof StorageError && err.code === 'NotFound';
  }
}

/**
 * An upload token is a random nonce followed by an HMAC over the grant it was issued for
 * (method, key, expiry, maximum size, content type, nonce). The catalog makes it single-use;
 * the HMAC makes it worthless for any other grant, even one written into the catalog by hand.
 */
const NONCE_CHARS = 32;
const TOKEN = /^[A-Za-z0-9_-]{75}$/;

type GrantFields = { key: string; contentType: string; maxBytes: number; expiresAt: Date };

function signedFields(grant: GrantFields, nonce: string) {
  return { method: 'PUT' as const, key: grant.key, expiresAt: Math.floor(grant.expiresAt.getTime() / 1000), maxBytes: grant.maxBytes, contentType: grant.contentType, nonce };
}

function bindToken(ctx: ServiceContext, grant: GrantFields): string {
  const nonce = randomBytes(24).toString('base64url');
  return `${nonce}${ctx.signer.sign(signedFields(grant, nonce))}`;
}

async function consume(ctx: ServiceContext, token: unknown) {
  // A malformed token never reaches the catalog.
  if (typeof token !== 'string' || !TOKEN.test(token)) throw new StorageError('InvalidToken', 'upload token is malformed');
  const grant = await ctx.catalog.consumeUploadToken(token);
  if (!grant) throw new StorageError('InvalidToken', 'upload token is unknown, used or expired');
  if (!ctx.signer.matches(signedFields(grant, token.slice(0, NONCE_CHARS)), token.slice(NONCE_CHARS))) {
    throw new StorageError('InvalidToken', 'upload token does not match its grant');
  }
  return grant;
}

/** Consumes the token and streams the body into its key. */
export async function uploadWithToken(
  ctx: ServiceContext,
  token: string,
  body: Readable,
  opts: { contentType?: string; contentLength?: number; signal?: AbortSignal },
): Promise<StoredObject> {
  const grant = await consume(ctx, token);
  // Refused before a byte of the body is read: the token stays usable for a corrected request.
  const refuse = async (err: StorageError) => {
    await ctx.catalog.restoreUploadToken(token).catch(() => undefined);
    throw err;
  };
  if (opts.contentType !== undefined && opts.contentType !== 'application/octet-stream' && declaredType(opts.contentType) !== grant.contentType) {
    return refuse(new StorageError('UnsupportedType', `this upload was granted for ${grant.contentType}, not ${JSON.stringify(opts.contentType.slice(0, 100))}`));
  }
  if (opts.contentLength !== undefined && opts.contentLength > grant.maxBytes) {
    return refuse(new StorageError('TooLarge', `${opts.contentLength} bytes is over this upload's limit of ${grant.maxBytes}`, { details: { limit: grant.maxBytes } }));
  }
  const parsed = ctx.keys.parse(grant.key);
  return storeBody(ctx, parsed, body, { contentType: grant.contentType, maxBytes: grant.maxBytes, contentLength: opts.contentLength, owner: grant.owner, signal: opts.signal });
}

/** A body's declared type, normalized; one that is no valid type (a wildcard, say) matches no grant. */
function declaredType(raw: string): string | undefined {
  try {
    return normalizeContentType(raw);
  } catch {
    return undefined;
  }
}

/**
 * What a presigned upload carries to say which grant it was made with: derived from the token,
 * which stays secret (the marker can be read by whoever may read the object's metadata).
 */
function grantMarker(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 32);
}

/**
 * How much older than its grant an uploaded object's Last-Modified may look (whole seconds, clock
 * drift), on backends whose presigned uploads carry no grant marker (Supabase).
 */
const GRANT_CLOCK_SLACK_MS = 2000;

/** After a direct (presigned) upload: checks the object is there within its limits, then records it. */
export async function completeDirectUpload(ctx: ServiceContext, token: string, expected?: { size?: number }): Promise<StoredObject> {
  // Without presigning, every upload goes through the service and is recorded as it lands.
  if (!ctx.backend.capabilities.presign) {
    throw new StorageError('InvalidArgument', `the ${ctx.backend.kind} backend takes no direct uploads: there is nothing to complete (upload to the grant's uploadUrl)`);
  }
  const grant = await consume(ctx, token);
  const parsed = ctx.keys.parse(grant.key);
  const nothingUploaded = () => new StorageError('PreconditionFailed', 'nothing was uploaded for this grant');
  const info = await ctx.backend.head(grant.key).catch((err) => {
    if (err instanceof StorageError && err.code === 'NotFound') throw nothingUploaded();
    throw err;
  });
  // An object not uploaded with this grant is someone's stored object, and a refused completion
  // must leave it alone. The grant's marker says so exactly; without one, an object older than
  // the grant cannot be its upload (S3 keeps whole seconds; clocks drift a little).
  if (ctx.backend.capabilities.presignGrant) {
    if (info.grant !== grantMarker(token)) throw nothingUploaded();
  } else if (grant.createdAt && info.lastModified.getTime() < grant.createdAt.getTime() - GRANT_CLOCK_SLACK_MS) throw nothingUploaded();
  const wrongSize = expected?.size !== undefined && info.size !== expected.size;
  if (info.size > grant.maxBytes || wrongSize) {
    await ctx.backend.delete(grant.key);
    throw info.size > grant.maxBytes
      ? new StorageError('TooLarge', `uploaded ${info.size} bytes, over the grant's ${grant.maxBytes}`)
      : new StorageError('PreconditionFailed', `uploaded ${info.size} bytes, not the ${expected?.size} declared`);
  }
  // Bytes that went straight to the backend were never sniffed on the way: judge them now.
  try {
    await checkStoredContent(ctx.backend, segmentOf(ctx, parsed.segment), { key: grant.key, size: info.size, contentType: grant.contentType });
  } catch (err) {
    if (err instanceof StorageError && err.code === 'UnsupportedType') await ctx.backend.delete(grant.key);
    throw err;
  }
  const row = await ctx.catalog.upsertObject({
    key: grant.key,
    segment: parsed.segment,
    size: info.size,
    contentType: info.contentType,
    etag: info.etag,
    sha256: info.sha256 ?? null,
    owner: grant.owner,
    location: info.location ?? 'primary',
  });
  return toStored(ctx, row);
}
