import { type CryptoKey, type JWTPayload, type JWTVerifyOptions, SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { JwtAlgorithm } from '../config/security.js';
import { StorageError } from '../core/errors.js';
import { type AsymmetricKeys, type KeySources, loadAsymmetricKeys } from './jwt-keys.js';
import type { Principal } from './principal.js';

/**
 * Bearer JWTs with Supabase-style claims (`sub`, `role`, `aud`, `exp`). HS256 is verified with
 * JWT_SECRET (or the generated secret); RS256/ES256 with a JWKS URL or a PEM public key.
 * The algorithm in the token's header only picks which of our keys to try, and each key is
 * bound to its algorithm, so `none`, HS256 signed with a public key (algorithm confusion) and
 * anything unlisted are refused. `exp` is required; clock skew is bounded.
 */
export const JWT_AUDIENCE = 'authenticated';
const ROLES = new Set(['anon', 'authenticated', 'service_role']);
/** Anonymous tokens (Supabase's anon key) may carry this audience; they grant nothing anyway. */
const ANON_AUDIENCE = 'anon';

export interface JwtOptions extends KeySources {
  audiences?: string[];
  issuer?: string;
  clockSkewSeconds?: number;
  algorithms?: JwtAlgorithm[];
}

/** Verified tokens remembered (oldest out first), so a client's repeated bearer costs no signature check. */
const VERIFIED_CACHE_SIZE = 4096;
/** Longer tokens are verified every time: the cache stays within 4096 × 4 KiB. */
const CACHEABLE_TOKEN_CHARS = 4096;

interface Verified {
  principal: Principal;
  /** Milliseconds: usable from `notBefore` until `expires`, clock skew included, as jose would judge. */
  notBefore: number;
  expires: number;
}

export class JwtAuthority {
  private readonly verified = new Map<string, Verified>();
  private readonly hmacSecret: Uint8Array;
  /** The secret as a CryptoKey, imported once: given raw bytes, jose imports them again on every sign and verify. */
  private hmacCryptoKey: Promise<CryptoKey> | undefined;
  private readonly asymmetric: AsymmetricKeys | undefined;
  readonly audiences: string[];
  readonly algorithms: JwtAlgorithm[];
  private readonly issuer: string | undefined;
  private readonly skew: number;

  constructor(secret: string, opts: JwtOptions = {}) {
    this.hmacSecret = new TextEncoder().encode(secret);
    this.asymmetric = loadAsymmetricKeys(opts);
    this.audiences = opts.audiences?.length ? [...opts.audiences] : [JWT_AUDIENCE];
    this.algorithms = opts.algorithms?.length ? [...opts.algorithms] : this.asymmetric ? ['HS256', 'RS256', 'ES256'] : ['HS256'];
    this.issuer = opts.issuer;
    this.skew = opts.clockSkewSeconds ?? 30;
  }

  /** Whether `bucketgate token` can mint: only HS256 tokens, signed with the service's own secret. */
  get canMint(): boolean {
    return this.algorithms.includes('HS256');
  }

  private hmacKey(): Promise<CryptoKey> {
    this.hmacCryptoKey ??= crypto.subtle.importKey('raw', this.hmacSecret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    return this.hmacCryptoKey;
  }

  async mint(claims: { role: Principal['role']; sub?: string; ttlSeconds: number }): Promise<string> {
    if (!this.canMint) throw new StorageError('Unsupported', 'HS256 is not in JWT_ALGORITHMS: tokens come from your identity provider, bucketgate cannot mint them');
    const jwt = new SignJWT({ role: claims.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setAudience(claims.role === 'anon' ? ANON_AUDIENCE : this.audiences[0]!)
      .setExpirationTime(Math.floor(Date.now() / 1000) + claims.ttlSeconds);
    if (this.issuer) jwt.setIssuer(this.issuer);
    if (claims.sub) jwt.setSubject(claims.sub);
    return jwt.sign(await this.hmacKey());
  }

  /**
   * Verifies a bearer token and returns who it names; Unauthenticated otherwise. A token that
   * passed before is taken from the cache while its exp/nbf still hold: the same string cannot
   * verify differently later, except that a key removed from the JWKS since then is not noticed
   * until the token expires.
   */
  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    const now = Date.now();
    if (known && now >= known.notBefore && now < known.expires) return { ...known.principal };
    if (known) this.verified.delete(token);
    const payload = await this.verifySignature(token);
    const principal = this.principalOf(payload);
    if (typeof payload.exp === 'number' && token.length <= CACHEABLE_TOKEN_CHARS) {
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
      const skewMs = this.skew * 1000;
      const notBefore = typeof payload.nbf === 'number' ? payload.nbf * 1000 - skewMs : Number.NEGATIVE_INFINITY;
      this.verified.set(token, { principal: { ...principal }, notBefore, expires: payload.exp * 1000 + skewMs });
    }
    return principal;
  }

  private principalOf(payload: JWTPayload): Principal {
    const role = typeof payload.role === 'string' && ROLES.has(payload.role) ? (payload.role as Principal['role']) : undefined;
    if (!role) throw new StorageError('Unauthenticated', 'token has no valid role claim');
    const aud = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    // A token made for another audience is not ours; one naming none is taken, as Supabase's own
    // anon and service_role keys name none. Only an anon token may use the anon audience.
    const ours = role === 'anon' ? [...this.audiences, ANON_AUDIENCE] : this.audiences;
    if (aud.length > 0 && !aud.some((a) => ours.includes(a))) throw new StorageError('Unauthenticated', 'token is not valid');
    if (role === 'authenticated' && (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.includes('/') || payload.sub.length > 200)) {
      throw new StorageError('Unauthenticated', 'token of an authenticated user needs a sub claim without "/"');
    }
    return role === 'anon' ? { role } : { role, sub: payload.sub };
  }

  private async verifySignature(token: string): Promise<JWTPayload> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new StorageError('Unauthenticated', 'token is not valid');
    }
    if (alg === undefined || !(this.algorithms as string[]).includes(alg)) throw new StorageError('Unauthenticated', 'token is not valid');
    const options: JWTVerifyOptions = {
      algorithms: [alg],
      requiredClaims: ['exp'],
      clockTolerance: this.skew,
      ...(this.issuer ? { issuer: this.issuer } : {}),
    };
    try {
      if (alg === 'HS256') return (await jwtVerify(token, await this.hmacKey(), options)).payload;
      if (!this.asymmetric) throw new StorageError('Unauthenticated', 'token is not valid');
      if (this.asymmetric.kind === 'jwks') return (await jwtVerify(token, this.asymmetric.resolve, options)).payload;
      if (alg !== this.asymmetric.algorithm) throw new StorageError('Unauthenticated', 'token is not valid');
      return (await jwtVerify(token, this.asymmetric.key, options)).payload;
    } catch (err) {
      if (err instanceof StorageError) throw err;
      if (this.asymmetric?.kind === 'jwks' && alg !== 'HS256' && jwksUnreachable(err)) {
        // The identity provider is unreachable: not the caller's fault, and worth a retry.
        throw new StorageError('BackendUnavailable', 'the JWKS endpoint could not be reached to verify the token', { cause: err });
      }
      throw new StorageError('Unauthenticated', err instanceof joseErrors.JWTExpired ? 'token has expired' : 'token is not valid');
    }
  }
}

/** A JWKS fetch that timed out, failed on the network or got no 200: the provider is down, the token may be fine. */
function jwksUnreachable(err: unknown): boolean {
  if (err instanceof joseErrors.JWKSTimeout) return true;
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) return true;
  return err instanceof joseErrors.JOSEError && err.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set HTTP response/i.test(err.message);
}
