import { type Api, downloadUrl, shareUrl } from './api.js';
import { openDialog } from './dialogs.js';
import { h } from './dom.js';
import { messageOf, notify } from './feedback.js';
import type { StoredObject } from './types.js';

export const LINK_LIFETIMES: [number, string][] = [
  [900, '15 minutes'],
  [3600, '1 hour'],
  [86_400, '1 day'],
  [604_800, '7 days'],
];

/** Starts a download without leaving the page: the link is same-origin, so `download` is honoured. */
export async function download(api: Api, item: StoredObject, isPublic: boolean): Promise<void> {
  try {
    const link = h('a', { href: await downloadUrl(api, item, isPublic), download: item.filename.split('/').pop() ?? 'download', hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (err) {
    notify(`Could not download ${item.filename}: ${messageOf(err)}`, 'error');
  }
}

/**
 * Copies a link to the clipboard. The Clipboard API needs a secure context (https or
 * localhost); elsewhere the link is shown selected in a dialog for the user to copy.
 */
export async function copyLink(api: Api, item: StoredObject, isPublic: boolean, expiresIn = 3600): Promise<string | undefined> {
  let url: string;
  try {
    url = await shareUrl(api, item, isPublic, expiresIn);
  } catch (err) {
    notify(`Could not make a link for ${item.filename}: ${messageOf(err)}`, 'error');
    return undefined;
  }
  const lifetime = LINK_LIFETIMES.find(([s]) => s === expiresIn)?.[1] ?? `${expiresIn} s`;
  const what = isPublic ? 'Public link' : `Signed link (valid ${lifetime})`;
  try {
    await navigator.clipboard.writeText(url);
    notify(`${what} copied`, 'success');
  } catch {
    const input = h('input', { type: 'text', readonly: true, value: url, class: 'link-field', 'aria-label': what, autofocus: true });
    openDialog({ title: 'Copy this link', content: [h('p', {}, `${what}. Press Ctrl+C (⌘C) to copy it.`), input] });
    input.select();
  }
  return url;
}
