/**
 * What a token says about its holder, decoded only to label the user and hide buttons that
 * would fail; the service verifies every token itself. Pure: no DOM, no storage.
 */
export type Role = 'anon' | 'authenticated' | 'service_role';

export interface Session {
  token: string | null;
  role: Role;
  sub?: string;
  /** Expiry, seconds since the epoch. */
  exp?: number;
}

export const GUEST: Session = Object.freeze({ token: null, role: 'anon' });

/** The claims of a JWT, or null when it is not one. */
export function decodeToken(token: string): { role: Role; sub?: string; exp?: number } | null {
  const part = token.split('.')[1];
  if (!part || token.split('.').length !== 3) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims = JSON.parse(json) as { role?: unknown; sub?: unknown; exp?: unknown };
    const role = claims.role === 'service_role' || claims.role === 'authenticated' || claims.role === 'anon' ? claims.role : null;
    if (!role) return null;
    return {
      role,
      sub: typeof claims.sub === 'string' ? claims.sub : undefined,
      exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    };
  } catch {
    return null;
  }
}

export function sessionFor(token: string): Session | null {
  const claims = decodeToken(token.trim());
  return claims ? { token: token.trim(), ...claims } : null;
}

export function isExpired(session: Session, now = Date.now()): boolean {
  return session.exp !== undefined && session.exp * 1000 <= now;
}

/** A short label: "operator (service role)", "alice", "guest". */
export function describeSession(session: Session): { name: string; role: string } {
  if (session.role === 'service_role') return { name: session.sub ?? 'service', role: 'service role: sees everything' };
  if (session.role === 'authenticated') return { name: session.sub ?? 'user', role: 'user: own files and public segments' };
  return { name: 'guest', role: 'public segments only' };
}

/** The folder of a segment this session's files live under: '' for everything, `sub/` for a user in a private segment. */
export function homeFolder(session: Session, segmentIsPublic: boolean): string {
  if (session.role === 'service_role' || segmentIsPublic || !session.sub) return '';
  return `${session.sub}/`;
}

/** Where files uploaded into `folder` land, as the service's policy places them: a user's into their own folder, in any segment. */
export function uploadFolder(session: Session, folder: string): string {
  if (session.role !== 'authenticated' || !session.sub || folder.startsWith(`${session.sub}/`)) return folder;
  return `${session.sub}/${folder}`;
}

/** Mirrors the service's policy (src/auth/policy.ts) only to hide buttons that would fail; the service decides. */
export function mayDelete(session: Session, filename: string): boolean {
  if (session.role === 'service_role') return true;
  return session.role === 'authenticated' && !!session.sub && filename.startsWith(`${session.sub}/`);
}

export function mayUpload(session: Session): boolean {
  return session.role === 'service_role' || (session.role === 'authenticated' && !!session.sub);
}
