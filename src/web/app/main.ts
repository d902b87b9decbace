import { Api, ApiError } from './api.js';
import { byId, h } from './dom.js';
import { messageOf, notify } from './feedback.js';
import { FileBrowser } from './files.js';
import { formatRelative } from './format.js';
import { icon } from './icons.js';
import { Overview } from './overview.js';
import { parseFilesRoute } from './paths.js';
import { GUEST, type Session, describeSession, isExpired, sessionFor } from './claims.js';
import { clearSession, loadSession, saveSession, takeTokenFromUrl } from './session.js';
import type { SegmentInfo, Stats, Status } from './types.js';

/** How often the overview polls; `?poll=<ms>` changes it (1 s to 60 s). */
const POLL_MS = Math.min(60_000, Math.max(1000, Number(new URLSearchParams(location.search).get('poll')) || 5000));

type View = 'signin' | 'overview' | 'files';

interface App {
  session: Session;
  overview: Overview;
  files: FileBrowser;
  view?: View;
}

let app: App | null = null;

function showView(view: View): void {
  for (const name of ['signin', 'overview', 'files'] as const) byId(`view-${name}`).hidden = name !== view;
  byId('mainnav').hidden = view === 'signin';
  byId('account').hidden = view === 'signin';
  for (const link of byId('mainnav').querySelectorAll<HTMLAnchorElement>('a[data-view]')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function showSignIn(message?: string): void {
  showView('signin');
  document.title = 'Sign in · bucketgate';
  const error = byId('signin-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  byId<HTMLInputElement>('token-input').value = '';
  byId('token-input').focus();
}

function signOut(message?: string): void {
  if (!app) return;
  const wasGuest = !app.session.token;
  app.overview.stop();
  app = null;
  clearSession();
  showSignIn(message);
  if (!message && !wasGuest) notify('Signed out');
}

/** Segments as configured (rules included); older services only name them in their stats. */
/** A guest reads public segments only: the others are not theirs to browse. */
function visibleTo(session: Session, list: SegmentInfo[]): SegmentInfo[] {
  return session.token ? list : list.filter((s) => s.public);
}

function segmentsFrom(status: Status | undefined, stats: Stats | undefined, session: Session): SegmentInfo[] {
  if (status?.segments?.length) return visibleTo(session, status.segments);
  if (status?.config?.segments?.length) return visibleTo(session, status.config.segments);
  const policies = (status as { policies?: Record<string, { read?: string }> } | undefined)?.policies ?? {};
  return Object.keys(stats?.segments ?? {}).map((name) => ({
    name,
    public: policies[name]?.read === 'public',
    allowedTypes: null,
    maxBytes: status?.config?.maxUploadBytes ?? 0,
    retentionDays: null,
  }));
}

function renderAccount(session: Session): void {
  const who = describeSession(session);
  const expiry = session.exp ? ` · token expires ${formatRelative(new Date(session.exp * 1000))}` : '';
  byId('account-name').replaceChildren(
    h('span', { class: 'account-user' }, who.name),
    h('span', { class: 'account-role muted' }, `${who.role}${expiry}`),
  );
  const signOutLabel = session.token ? 'Sign out' : 'Sign in';
  byId('sign-out').setAttribute('aria-label', signOutLabel);
  byId('sign-out').replaceChildren(icon('logout'), h('span', {}, signOutLabel));
}

async function start(session: Session): Promise<void> {
  const api = new Api(session.token, (message) => signOut(`You were signed out: ${message}`));
  let status: Status | undefined;
  let stats: Stats | undefined;
  try {
    // The token is checked first, so a wrong one lands back on the sign-in form with the reason.
    [stats, status] = await Promise.all([api.stats(), api.status().catch(() => undefined)]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      clearSession();
      return showSignIn(`The service refused this token: ${err.message}`);
    }
    notify(`The service is not answering properly: ${messageOf(err)}`, 'error');
  }
  let segments = segmentsFrom(status, stats, session);
  const overview = new Overview(byId('overview-body'), api, POLL_MS, () => app?.view === 'overview');
  const files = new FileBrowser(byId('view-files'), {
    api,
    session,
    segments: () => (segments = overview.segments?.length ? visibleTo(session, overview.segments) : segments),
    onChanged: () => void overview.refresh(),
  });
  app = { session, overview, files };
  renderAccount(session);
  overview.start();
  route();
}

function route(): void {
  // A sign-in link opened in a tab already showing the dashboard: its token is taken (and leaves
  // the address bar) as on a fresh load, and replaces the session.
  if (/^#token=/.test(location.hash)) {
    app?.overview.stop();
    app = null;
    return boot();
  }
  if (!app) return;
  const hash = location.hash;
  const view: View = hash.startsWith('#/files') ? 'files' : 'overview';
  const changed = app.view !== view;
  app.view = view;
  showView(view);
  if (view === 'files') {
    const { segment, folder } = parseFilesRoute(hash);
    app.files.show(segment, folder);
    document.title = `Files${segment ? ` · ${segment}` : ''} · bucketgate`;
    // Moving between folders: the current crumb says where we are now.
    const target = changed ? byId('view-files').querySelector<HTMLElement>('h1') : byId('view-files').querySelector<HTMLElement>('.crumbs [aria-current="page"]');
    target?.focus();
  } else {
    document.title = 'Overview · bucketgate';
    app.overview.render();
    void app.overview.refresh();
    if (changed) byId('view-overview').querySelector<HTMLElement>('h1')?.focus();
  }
}

function boot(): void {
  const fromUrl = takeTokenFromUrl();
  let problem: string | undefined;
  if (fromUrl) {
    const session = sessionFor(fromUrl);
    if (session) saveSession(session);
    else problem = 'The link carried something that is not a token. Paste one below.';
  }
  const session = problem ? null : loadSession();
  if (!session) return showSignIn(problem);
  if (isExpired(session)) {
    clearSession();
    return showSignIn('Your token has expired. Paste a new one.');
  }
  void start(session);
}

byId('signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = byId<HTMLInputElement>('token-input').value.trim();
  const session = sessionFor(value);
  if (!session) return showSignIn('That is not a token: it should look like three dot-separated parts (eyJ…).');
  if (isExpired(session)) return showSignIn('That token has expired.');
  saveSession(session);
  void start(session);
});
byId('guest').addEventListener('click', () => {
  saveSession(GUEST);
  void start(GUEST);
});
byId('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', route);
document.addEventListener('keydown', (event) => {
  // "/" jumps to the file search, as in many web apps, unless the user is typing.
  const typing = event.target instanceof HTMLElement && event.target.closest('input, textarea, select, [contenteditable="true"]');
  if (event.key === '/' && !typing && app?.view === 'files' && !document.querySelector('dialog[open]')) {
    event.preventDefault();
    app.files.focusSearch();
  }
});
boot();
