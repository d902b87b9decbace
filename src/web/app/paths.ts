import type { StoredObject } from './types.js';

/** Routes of the file browser and folders from a flat listing. Pure: no DOM. */

/** `#/files/<segment>/<folder/…/>`: each part URL-encoded, the folder ending in '/'. */
export function filesRoute(segment: string, folder = ''): string {
  return `#/files/${encodeURIComponent(segment)}/${folder.split('/').map(encodeURIComponent).join('/')}`;
}

export function parseFilesRoute(hash: string): { segment?: string; folder: string } {
  const match = /^#\/files(?:\/([^/]*)\/?(.*))?$/.exec(hash);
  if (!match) return { folder: '' };
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const folder = (match[2] ?? '').split('/').map(decode).join('/');
  return { segment: match[1] ? decode(match[1]) : undefined, folder: folder && !folder.endsWith('/') ? `${folder}/` : folder };
}

/** Folders are the next path part under the current folder; the list API is flat, so they are grouped here, per page. */
export function groupPage(items: StoredObject[], folder: string): { folders: string[]; files: StoredObject[] } {
  const folders = new Set<string>();
  const files: StoredObject[] = [];
  for (const item of items) {
    const rest = item.filename.slice(folder.length);
    const slash = rest.indexOf('/');
    if (slash >= 0) folders.add(`${folder}${rest.slice(0, slash + 1)}`);
    else files.push(item);
  }
  return { folders: [...folders], files };
}
