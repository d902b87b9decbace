import type { FastifyRequest } from 'fastify';
import type { JwtAuthority } from '../auth/jwt.js';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import { StorageError } from '../core/errors.js';

/** The principal of a request: its bearer token verified, or anonymous when there is none. */
export async function principalOf(request: FastifyRequest, jwt: JwtAuthority): Promise<Principal> {
  const header = request.headers.authorization;
  if (header === undefined) return ANONYMOUS;
  const match = /^Bearer\s+([A-Za-z0-9_\-.]+)\s*$/i.exec(header);
  if (!match) throw new StorageError('Unauthenticated', 'Authorization must be "Bearer <token>"');
  return jwt.verify(match[1]!);
}
