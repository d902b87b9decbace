import { byId, h } from './dom.js';

/**
 * Short messages: shown as a toast and read out by screen readers through the page's live
 * regions (#live-status is polite, #live-alert assertive for errors).
 */
export function notify(message: string, kind: 'info' | 'success' | 'error' = 'info'): void {
  const region = byId(kind === 'error' ? 'live-alert' : 'live-status');
  // Clearing first makes a repeated message be announced again.
  region.textContent = '';
  window.setTimeout(() => (region.textContent = message), 50);

  const toasts = byId('toasts');
  const toast = h('div', { class: `toast toast-${kind}`, 'aria-hidden': 'true' }, message);
  toasts.append(toast);
  window.setTimeout(() => toast.classList.add('toast-leaving'), kind === 'error' ? 7000 : 3500);
  window.setTimeout(() => toast.remove(), kind === 'error' ? 7400 : 3900);
}

/** A message in words for an error of any kind. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
