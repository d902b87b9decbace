import { GUEST, type Session, sessionFor } from './claims.js';

/**
 * Where the sign-in is kept: sessionStorage, so it is gone when the tab closes. A token
 * arriving as `#token=` (the link the service prints) is read once and then removed from
 * the address bar, so it isn't left in history, bookmarks or screenshots.
 */
const TOKEN_KEY = 'bucketgate.token';
const GUEST_KEY = 'bucketgate.guest';

/** Takes `#token=…` out of the address bar, returning it. */
export function takeTokenFromUrl(): string | null {
  const match = /^#token=([A-Za-z0-9_\-.]+)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return match[1]!;
}

export function loadSession(): Session | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) return sessionFor(token);
  return sessionStorage.getItem(GUEST_KEY) ? GUEST : null;
}

export function saveSession(session: Session): void {
  if (session.token) {
    sessionStorage.setItem(TOKEN_KEY, session.token);
    sessionStorage.removeItem(GUEST_KEY);
  } else {
    sessionStorage.setItem(GUEST_KEY, '1');
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

export function clearSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(GUEST_KEY);
}
