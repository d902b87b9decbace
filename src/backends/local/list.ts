import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isStorageError } from '../../core/errors.js';
import { MAX_KEY_BYTES, RESERVED_PART_PREFIX } from '../../core/keys.js';
import type { LocalContext } from './context.js';
import { isFsError } from './fs-errors.js';
import { assertNoSymlinks, confinedJoin } from './paths.js';
import { compareUtf8 } from './utf8-order.js';

export interface ListRequest {
  /** Parsed by KeyRules.parsePrefix. */
  prefix: string;
  /** Non-empty, or undefined for a flat listing. */
  delimiter?: string;
  /** Exclusive lower bound: the last key or common prefix of the previous page. */
  after?: string;
  /** How many items to collect (objects and common prefixes alike). */
  count: number;
}

export type ListItem = { kind: 'object'; key: string } | { kind: 'prefix'; prefix: string };

interface Entry {
  name: string;
  isDir: boolean;
  /** `name` for files, `name/` for folders: sorting by this gives the global key order. */
  sortKey: string;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A name that can be part of a key: not a temp or other internal file, and spelt the way keys are (NFC). */
function isKeyPart(name: string): boolean {
  return !name.startsWith(RESERVED_PART_PREFIX) && !name.includes('\\') && !CONTROL.test(name) && name === name.normalize('NFC');
}

/** A folder's key-bearing entries in key order; symlinks and special files are never listed. */
async function readSorted(ctx: LocalContext, abs: string, atRoot: boolean): Promise<Entry[]> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(abs, { withFileTypes: true });
  } catch (err) {
    if (isFsError(err, 'ENOENT', 'ENOTDIR')) return []; // pruned by a concurrent delete
    throw err;
  }
  const entries: Entry[] = [];
  for (const d of dirents) {
    const isDir = d.isDirectory();
    if (!isDir && !d.isFile()) continue;
    if (atRoot ? !(isDir && ctx.keys.isSegment(d.name)) : !isKeyPart(d.name)) continue;
    entries.push({ name: d.name, isDir, sortKey: isDir ? `${d.name}/` : d.name });
  }
  return entries.sort((a, b) => compareUtf8(a.sortKey, b.sortKey));
}

/**
 * Walks only the folder the prefix points into, in key order, stopping once `count` items are
 * found. Folders that sort wholly before the cursor are skipped unread, and with a delimiter
 * a folder that rolls up into one common prefix is only checked for holding any key at all.
 */
export async function listKeys(ctx: LocalContext, req: ListRequest): Promise<ListItem[]> {
  const items: ListItem[] = [];
  let lastPrefix: string | undefined;
  const { prefix, delimiter, after } = req;

  const isAfterCursor = (value: string) => after === undefined || compareUtf8(value, after) > 0;
  const full = () => items.length >= req.count;

  /** The common prefix `value` rolls up into, if the delimiter occurs after the listing prefix. */
  const groupOf = (value: string): string | undefined => {
    if (delimiter === undefined) return undefined;
    const at = value.indexOf(delimiter, prefix.length);
    return at < 0 ? undefined : value.slice(0, at + delimiter.length);
  };

  const offerPrefix = (group: string) => {
    if (group === lastPrefix || !isAfterCursor(group)) return;
    lastPrefix = group;
    items.push({ kind: 'prefix', prefix: group });
  };

  const visitFile = (key: string) => {
    if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return; // not addressable by any key
    const group = groupOf(key);
    if (group !== undefined) offerPrefix(group);
    else if (isAfterCursor(key)) items.push({ kind: 'object', key });
  };

  const visitDir = async (abs: string, dirPrefix: string) => {
    // Every key inside starts with dirPrefix; if that sorts before the cursor (and the cursor is not inside), so do they all.
    if (after !== undefined && compareUtf8(dirPrefix, after) < 0 && !after.startsWith(dirPrefix)) return;
    const group = groupOf(dirPrefix);
    if (group === undefined) return walk(abs, dirPrefix, '');
    if (group !== lastPrefix && isAfterCursor(group) && (await holdsAnyKey(ctx, abs, dirPrefix))) offerPrefix(group);
  };

  const walk = async (abs: string, rel: string, namePrefix: string): Promise<void> => {
    for (const entry of await readSorted(ctx, abs, rel === '')) {
      if (full()) return;
      if (!entry.name.startsWith(namePrefix)) continue;
      if (entry.isDir) await visitDir(join(abs, entry.name), `${rel}${entry.name}/`);
      else if (rel !== '') visitFile(`${rel}${entry.name}`);
    }
  };

  const cut = prefix.lastIndexOf('/') + 1;
  const startRel = prefix.slice(0, cut);
  const startParts = startRel.split('/').filter((p) => p !== '');
  const startAbs = startParts.length === 0 ? ctx.root : confinedJoin(ctx.root, ...startParts);
  if (startParts.length > 0) {
    try {
      await assertNoSymlinks(startAbs);
    } catch (err) {
      // Absent, or reached through a symlink (never followed): nothing to list.
      if (isFsError(err, 'ENOENT', 'ENOTDIR') || isStorageError(err, 'Forbidden')) return items;
      throw err;
    }
  }
  await walk(startAbs, startRel, prefix.slice(cut));
  return items;
}

/** Whether a folder holds at least one listable key anywhere below it (stops at the first). */
async function holdsAnyKey(ctx: LocalContext, abs: string, rel: string): Promise<boolean> {
  for (const entry of await readSorted(ctx, abs, false)) {
    if (entry.isDir) {
      if (await holdsAnyKey(ctx, join(abs, entry.name), `${rel}${entry.name}/`)) return true;
    } else if (Buffer.byteLength(`${rel}${entry.name}`, 'utf8') <= MAX_KEY_BYTES) {
      return true;
    }
  }
  return false;
}
