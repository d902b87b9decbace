import { type Api, mediaUrl } from './api.js';
import { confirmDialog, openDialog } from './dialogs.js';
import { h } from './dom.js';
import { messageOf, notify } from './feedback.js';
import { baseName, formatBytes, formatCount, formatDate, previewKind } from './format.js';
import { LINK_LIFETIMES, copyLink, download } from './share.js';
import type { StoredObject } from './types.js';

/** Text previews read at most this much (a ranged read), so a huge log doesn't hang the tab. */
const TEXT_PREVIEW_BYTES = 512 * 1024;

const JSON_TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** Pretty JSON with its strings, keys, numbers and literals marked for colour; built from text nodes only. */
function highlightJson(pretty: string): HTMLElement {
  const code = h('code', { class: 'json' });
  let last = 0;
  for (const match of pretty.matchAll(JSON_TOKEN)) {
    const index = match.index ?? 0;
    if (index > last) code.append(pretty.slice(last, index));
    const cls = match[1] ? (match[2] ? 'json-key' : 'json-string') : match[3] ? 'json-literal' : 'json-number';
    code.append(h('span', { class: cls }, match[1] ?? match[0]));
    if (match[2]) code.append(match[2]);
    last = index + match[0].length;
  }
  code.append(pretty.slice(last));
  return code;
}

function prettyJson(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

/** NDJSON (one JSON value a line, as logs are): each line pretty-printed; null when a line isn't JSON. */
function prettyNdjson(text: string, truncated: boolean): string | null {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (truncated) lines.pop(); // the last line may be cut mid-value
  const out: string[] = [];
  for (const line of lines) {
    const pretty = prettyJson(line);
    if (pretty === null) return null;
    out.push(pretty);
  }
  return out.join('\n');
}

async function textPreview(api: Api, item: StoredObject, kind: 'json' | 'ndjson' | 'text'): Promise<Node[]> {
  const { text, truncated } = await api.text(item, TEXT_PREVIEW_BYTES);
  const note = truncated ? h('p', { class: 'muted' }, `Showing the first ${formatBytes(TEXT_PREVIEW_BYTES)} of ${formatBytes(item.size)}.`) : null;
  if (item.size === 0) return [h('p', { class: 'muted' }, 'This file is empty.')];
  const pretty = kind === 'json' && !truncated ? prettyJson(text) : kind === 'ndjson' ? prettyNdjson(text, truncated) : null;
  const label = `Contents of ${baseName(item.filename)}`;
  const pre = pretty !== null
    ? h('pre', { class: 'text-preview', tabindex: 0, 'aria-label': label }, highlightJson(pretty))
    : h('pre', { class: 'text-preview', tabindex: 0, 'aria-label': label }, h('code', {}, text));
  return note ? [pre, note] : [pre];
}

async function mediaPreview(api: Api, item: StoredObject, isPublic: boolean, kind: 'image' | 'video' | 'audio'): Promise<HTMLElement> {
  const src = await mediaUrl(api, item, isPublic);
  const name = baseName(item.filename);
  if (kind === 'image') return h('img', { class: 'media-preview', src, alt: `Preview of ${name}` });
  const media = h(kind, { class: 'media-preview', controls: true, preload: 'metadata', src, 'aria-label': `${kind === 'video' ? 'Video' : 'Audio'}: ${name}` });
  if (media instanceof HTMLVideoElement) media.playsInline = true;
  media.addEventListener('error', () => notify(`${name} can't be played here (${item.contentType}); download it instead.`, 'error'));
  return media;
}

export interface PreviewContext {
  api: Api;
  item: StoredObject;
  isPublic: boolean;
  canDelete: boolean;
  onDeleted: (item: StoredObject) => void;
}

/** Asks, then deletes; true when the object is gone. */
export async function deleteWithConfirmation(api: Api, item: StoredObject, onDeleted: (item: StoredObject) => void): Promise<boolean> {
  const ok = await confirmDialog({
    title: 'Delete this file?',
    message: `${item.segment}/${item.filename} (${formatBytes(item.size)}) will be deleted. This can't be undone.`,
    confirmLabel: 'Delete',
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.remove(item.id);
    notify(`${baseName(item.filename)} deleted`, 'success');
    onDeleted(item);
    return true;
  } catch (err) {
    notify(`Could not delete ${baseName(item.filename)}: ${messageOf(err)}`, 'error');
    return false;
  }
}

/** The preview dialog: the object itself when the browser can show it, its facts, and what can be done with it. */
export function openPreview(ctx: PreviewContext): void {
  const { api, item, isPublic } = ctx;
  const kind = previewKind(item.contentType);
  const stage = h('div', { class: `preview-stage preview-${kind}`, 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading preview…'));

  const lifetime = h('select', { id: 'link-lifetime', 'aria-label': 'Signed link valid for' },
    ...LINK_LIFETIMES.map(([seconds, label]) => h('option', { value: seconds, selected: seconds === 3600 }, label)));
  const facts = h('dl', { class: 'facts' },
    ...([
      ['Key', item.key],
      ['Size', `${formatBytes(item.size)} (${formatCount(item.size)} bytes)`],
      ['Type', item.contentType],
      ['Modified', formatDate(item.updatedAt)],
      ['Created', formatDate(item.createdAt)],
      ['Owner', item.owner ?? '–'],
      ['SHA-256', item.sha256 ?? '–'],
    ] as [string, string][]).flatMap(([term, value]) => [h('dt', {}, term), h('dd', { class: term === 'SHA-256' || term === 'Key' ? 'mono' : '' }, value)]),
  );

  const downloadButton = h('button', { type: 'button', class: 'button' }, 'Download');
  const copyButton = h('button', { type: 'button', class: 'button' }, isPublic ? 'Copy link' : 'Copy signed link');
  const deleteButton = ctx.canDelete ? h('button', { type: 'button', class: 'button button-danger' }, 'Delete') : null;
  const linkRow = isPublic ? null : h('div', { class: 'link-row' }, h('label', { for: 'link-lifetime' }, 'Signed link valid for'), lifetime);

  const open = openDialog({
    title: baseName(item.filename),
    className: 'dialog-preview',
    content: [stage, h('details', { class: 'preview-facts', open: window.innerWidth > 720 }, h('summary', {}, 'Details'), facts), ...(linkRow ? [linkRow] : [])],
    actions: [downloadButton, copyButton, deleteButton].filter((n): n is HTMLButtonElement => n !== null),
    onClose: () => {
      // Stop playback and the stream's connection.
      for (const media of stage.querySelectorAll('video, audio')) {
        (media as HTMLMediaElement).pause();
        media.removeAttribute('src');
        (media as HTMLMediaElement).load();
      }
    },
  });
  open.dialog.dataset.kind = kind;

  downloadButton.addEventListener('click', () => void download(api, item, isPublic));
  copyButton.addEventListener('click', () => void copyLink(api, item, isPublic, Number(lifetime.value)));
  deleteButton?.addEventListener('click', async () => {
    if (await deleteWithConfirmation(api, item, ctx.onDeleted)) open.close();
  });

  const load = async (): Promise<Node[]> => {
    if (kind === 'image' || kind === 'video' || kind === 'audio') return [await mediaPreview(api, item, isPublic, kind)];
    if (kind === 'json' || kind === 'ndjson' || kind === 'text') return textPreview(api, item, kind);
    return [h('p', { class: 'muted' }, `No preview for ${item.contentType}. Download it to open it.`)];
  };
  load()
    .then((nodes) => stage.replaceChildren(...nodes))
    .catch((err) => stage.replaceChildren(h('p', { class: 'banner banner-error', role: 'alert' }, `Could not load the preview: ${messageOf(err)}`)))
    .finally(() => stage.removeAttribute('aria-busy'));
}
