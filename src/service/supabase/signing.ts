import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { loadOrCreateSecret } from '../../auth/secret.js';
import type { Config } from '../../config/index.js';
import { StorageError } from '../../core/errors.js';

/**
 * Signed URLs as Supabase makes them: an HS256 JWT carrying the object's `bucket/name` in a
 * `url` claim, a `scope` (download or upload) and an expiry. The key is derived from the service's
 * JWT secret, so a signed-URL token can never pass as a bearer token nor the other way round
 * (Supabase likewise keeps a separate URL-signing key).
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

export class UrlSigner {
  private constructor(private readonly key: Uint8Array) {}

  /** The same secret `createStorage` uses: JWT_SECRET, or the one kept beside the catalog. */
  static async forService(config: Config): Promise<UrlSigner> {
    const secret = config.jwtSecret ?? (await loadOrCreateSecret(join(config.bucketPath, '.bucketgate', 'jwt-secret'))).secret;
    return new UrlSigner(createHmac('sha256', secret).update(DERIVATION_LABEL).digest());
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
      .sign(this.key);
  }

  /** Checks signature, expiry, scope and that the token names exactly this object. */
  async verify(token: unknown, url: string, scope: SignedScope): Promise<SignedClaims> {
    if (typeof token !== 'string' || token === '') throw invalid('Missing token', 'InvalidJWT');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: ['exp'] }));
    } catch (err) {
      throw err instanceof joseErrors.JWTExpired ? invalid('The provided token has expired.', 'ExpiredToken') : invalid('invalid signature', 'InvalidJWT');
    }
    if (payload.scope !== scope) throw invalid(`Token is not scoped for ${scope}`);
    if (payload.url !== url) throw invalid('Invalid signature');
    return payload as unknown as SignedClaims;
  }
}
