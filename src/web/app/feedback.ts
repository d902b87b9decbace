import { byId, h } from './dom.js';

const MAX_TOASTS = 4;

/** Before a dialog is removed, the toasts it hosts go back to the page. */
export function releaseToasts(dialog: HTMLElement): void {
  const toasts = document.getElementById('toasts');
  if (toasts && dialog.contains(toasts)) (([...document.querySelectorAll('dialog[open]')].filter((d) => d !== dialog).pop() as HTMLElement | undefined) ?? document.body).append(toasts);
}

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
  // A modal dialog sits in the top layer, above everything else: the toasts go inside it while it is open.
  const host = [...document.querySelectorAll('dialog[open]')].pop() ?? document.body;
  if (toasts.parentElement !== host) host.append(toasts);
  const toast = h('div', { class: `toast toast-${kind}`, 'aria-hidden': 'true' }, message);
  toasts.append(toast);
  while (toasts.children.length > MAX_TOASTS) toasts.firstElementChild?.remove();
  window.setTimeout(() => toast.classList.add('toast-leaving'), kind === 'error' ? 7000 : 3500);
  window.setTimeout(() => toast.remove(), kind === 'error' ? 7400 : 3900);
}

/** A message in words for an error of any kind. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
