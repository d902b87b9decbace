import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { loadOrCreateSecret } from '../../auth/secret.js';
import type { Config } from '../../config/index.js';
import { StorageError } from '../../core/errors.js';

/**
 * Signed URLs as Supabase makes them: an HS256 JWT carrying the object's `bucket/name` in a
 * `url` claim, a `scope` (download or upload) and an expiry. The key is derived from the
 * service's signing secrets (BHIV_SIGNING_SECRETS, newest signs, both verify, so secrets rotate
 * without breaking links) or, without them, from its JWT secret — never the same bytes, so a
 * signed-URL token can never pass as a bearer token nor the other way round (Supabase likewise
 * keeps a separate URL-signing key).
 */
export type SignedScope = 'download' | 'upload';

export interface SignedClaims {
  url: string;
  scope: SignedScope;
  owner?: string;
  upsert?: boolean;
  exp: number;
}

const MAX_EXPIRES_IN = 10 * 365 * 24 * 3600;
const DERIVATION_LABEL = 'bucketgate/supabase-signed-urls/v1';

function invalid(message: string, supabaseCode = 'InvalidSignature'): StorageError {
  return new StorageError('InvalidToken', message, { details: { supabaseCode } });
}

const derive = (secret: string) => createHmac('sha256', secret).update(DERIVATION_LABEL).digest();

export class UrlSigner {
  /** Newest first: the first signs, every one verifies. */
  private constructor(private readonly keys: Uint8Array[]) {}

  /** The secrets `createStorage` signs with: BHIV_SIGNING_SECRETS, else JWT_SECRET or the one kept beside the catalog. */
  static async forService(config: Config): Promise<UrlSigner> {
    const configured = config.security?.signingSecrets;
    if (configured?.length) return new UrlSigner(configured.map(derive));
    const secret = config.jwtSecret ?? (await loadOrCreateSecret(join(config.bucketPath, '.bucketgate', 'jwt-secret'))).secret;
    return new UrlSigner([derive(secret)]);
  }

  async sign(url: string, scope: SignedScope, expiresIn: number, extra: { owner?: string; upsert?: boolean } = {}): Promise<string> {
    if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES_IN) {
      throw new StorageError('InvalidArgument', `expiresIn must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN}`);
    }
    const claims: Record<string, unknown> = { url, scope };
    if (scope === 'upload') {
      if (extra.owner !== undefined) claims.owner = extra.owner;
      claims.upsert = extra.upsert === true;
    }
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn)
      .sign(this.keys[0]!);
  }

  /** Checks signature, expiry, scope and that the token names exactly this object. */
  async verify(token: unknown, url: string, scope: SignedScope): Promise<SignedClaims> {
    if (typeof token !== 'string' || token === '') throw invalid('Missing token', 'InvalidJWT');
    let payload: Record<string, unknown> | undefined;
    let expired = false;
    for (const key of this.keys) {
      try {
        ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp'] }));
        break;
      } catch (err) {
        expired ||= err instanceof joseErrors.JWTExpired;
      }
    }
    if (!payload) throw expired ? invalid('The provided token has expired.', 'ExpiredToken') : invalid('invalid signature', 'InvalidJWT');
    if (payload.scope !== scope) throw invalid(`Token is not scoped for ${scope}`);
    if (payload.url !== url) throw invalid('Invalid signature');
    return payload as unknown as SignedClaims;
  }
}
