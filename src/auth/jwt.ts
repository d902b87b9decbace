import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { StorageError } from '../core/errors.js';
import type { Principal } from './principal.js';

/**
 * Bearer JWTs with Supabase-style claims (`sub`, `role`, `aud`, `exp`), HS256 over JWT_SECRET.
 * Only HS256 is accepted, so `none` and algorithm confusion are refused by construction.
 */
export const JWT_AUDIENCE = 'authenticated';
const CLOCK_TOLERANCE_SECONDS = 30;
const ROLES = new Set(['anon', 'authenticated', 'service_role']);

export class JwtAuthority {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async mint(claims: { role: Principal['role']; sub?: string; ttlSeconds: number }): Promise<string> {
    const jwt = new SignJWT({ role: claims.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setAudience(claims.role === 'anon' ? 'anon' : JWT_AUDIENCE)
      .setExpirationTime(Math.floor(Date.now() / 1000) + claims.ttlSeconds);
    if (claims.sub) jwt.setSubject(claims.sub);
    return jwt.sign(this.key);
  }

  /** Verifies a bearer token and returns who it names; InvalidToken/Unauthenticated otherwise. */
  async verify(token: string): Promise<Principal> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        audience: [JWT_AUDIENCE, 'anon'],
        requiredClaims: ['exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (err) {
      const reason = err instanceof joseErrors.JWTExpired ? 'token has expired' : 'token is not valid';
      throw new StorageError('Unauthenticated', reason);
    }
    const role = typeof payload.role === 'string' && ROLES.has(payload.role) ? (payload.role as Principal['role']) : undefined;
    if (!role) throw new StorageError('Unauthenticated', 'token has no valid role claim');
    if (role === 'authenticated' && (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.includes('/'))) {
      throw new StorageError('Unauthenticated', 'token of an authenticated user needs a sub claim without "/"');
    }
    return role === 'anon' ? { role } : { role, sub: payload.sub };
  }
}
