import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { JwtAuthority } from '../auth/jwt.js';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import { StorageError } from '../core/errors.js';

const BEARER = /^Bearer\s+([A-Za-z0-9_\-.]+)\s*$/i;

/** The principal of a request: its bearer token verified, or anonymous when there is none. */
export async function principalOf(request: FastifyRequest, jwt: JwtAuthority): Promise<Principal> {
  const header = request.headers.authorization;
  if (header === undefined) return ANONYMOUS;
  const match = BEARER.exec(header);
  if (!match) throw new StorageError('Unauthenticated', 'Authorization must be "Bearer <token>"');
  return jwt.verify(match[1]!);
}

/** True when the request carries `Authorization: Bearer <secret>`; compared in constant time. */
export function bearsSecret(request: FastifyRequest, secret: string): boolean {
  const presented = BEARER.exec(request.headers.authorization ?? '')?.[1];
  if (presented === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(secret));
}
