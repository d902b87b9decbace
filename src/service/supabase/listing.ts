import type { Principal } from '../../auth/principal.js';
import type { CatalogObject } from '../../catalog/types.js';
import { encodeCursor } from '../../core/cursor.js';
import { StorageError, isStorageError } from '../../core/errors.js';
import type { ListPage, ObjectInfo } from '../../core/types.js';
import type { ServiceContext } from '../context.js';
import { type SystemMetadata, bucketOf, indexed, systemMetadata } from './objects.js';

/**
 * Supabase's two listings over a backend's sorted, delimited `list`:
 *  - v1 (`POST /object/list/{bucket}`): one folder level, offset paging, case-insensitive
 *    `search`, sortable by name or date; it reads the whole level to sort it.
 *  - v2 (`POST /object/list-v2/{bucket}`): any prefix, optional `/` grouping, cursor paging
 *    straight onto the backend's cursor (Supabase's token carries the last name, as ours does).
 * Both show a user only what the Policy lets them list: their own folder in a private bucket.
 */

export interface ListEntry {
  name: string;
  id: string | null;
  updated_at: string | null;
  created_at: string | null;
  last_accessed_at: string | null;
  metadata: SystemMetadata | null;
}

export interface ListV1Options {
  prefix: string;
  limit?: number;
  offset?: number;
  sortBy?: { column?: string; order?: string };
  search?: string;
}

const MAX_LEVEL_ENTRIES = 100_000;
const SORT_COLUMNS = new Set(['name', 'updated_at', 'created_at', 'last_accessed_at']);

type Level = { folders: string[]; objects: ObjectInfo[] };

/** The folder or prefix a principal may see under `asked`: `asked` itself, a narrower one, or nothing. */
function visibleUnder(ctx: ServiceContext, principal: Principal, bucket: string, asked: string): { prefix: string; only?: string } | null {
  const visible = ctx.policy.visiblePrefix(principal, bucket);
  if (visible === null) return null;
  if (asked.startsWith(visible)) return { prefix: asked };
  if (visible.startsWith(asked)) return { prefix: visible, only: visible };
  return null;
}

async function readLevel(ctx: ServiceContext, base: string): Promise<Level> {
  const level: Level = { folders: [], objects: [] };
  let cursor: string | undefined;
  do {
    const page = await ctx.backend.list(base, { delimiter: '/', cursor, limit: 1000 });
    level.folders.push(...page.prefixes);
    level.objects.push(...page.objects);
    cursor = page.cursor;
    if (level.folders.length + level.objects.length > MAX_LEVEL_ENTRIES) {
      throw new StorageError('InvalidArgument', `folder has more than ${MAX_LEVEL_ENTRIES} entries; use list-v2 to page through it`);
    }
  } while (cursor);
  return level;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Supabase orders v1 names by `lower(name) COLLATE "C"`. */
function compareNames(a: string, b: string): number {
  return compareBytes(a.toLowerCase(), b.toLowerCase()) || compareBytes(a, b);
}

const folderEntry = (name: string): ListEntry => ({ name, id: null, updated_at: null, created_at: null, last_accessed_at: null, metadata: null });

function objectEntry(name: string, info: ObjectInfo, row: CatalogObject): ListEntry {
  const at = info.lastModified.toISOString();
  return { name, id: row.id, updated_at: at, created_at: row.createdAt.toISOString(), last_accessed_at: at, metadata: systemMetadata(info) };
}

export async function listV1(ctx: ServiceContext, principal: Principal, bucket: string, opts: ListV1Options): Promise<ListEntry[]> {
  bucketOf(ctx, bucket);
  let folder = opts.prefix ?? '';
  if (folder !== '' && !folder.endsWith('/')) folder = `${folder}/`;
  folder = ctx.keys.prefixWithin(bucket, folder);
  const limit = Math.min(opts.limit ?? 100, 1000);
  const offset = opts.offset ?? 0;
  const column = opts.sortBy?.column ?? 'name';
  if (!SORT_COLUMNS.has(column)) throw new StorageError('InvalidArgument', `cannot sort by ${column}`);
  const descending = (opts.sortBy?.order ?? 'asc').toLowerCase() === 'desc';
  const search = (opts.search ?? '').normalize('NFC').toLowerCase();

  const view = visibleUnder(ctx, principal, bucket, folder);
  if (!view) return [];
  let folders: string[];
  let objects: ObjectInfo[];
  if (view.only !== undefined) {
    // A user listing above their own folder sees that folder and nothing beside it.
    const exists = (await ctx.backend.list(`${bucket}/${view.only}`, { limit: 1 })).objects.length > 0;
    folders = exists ? [view.only.slice(folder.length).split('/')[0]!] : [];
    objects = [];
  } else {
    const level = await readLevel(ctx, `${bucket}/${folder}`);
    const base = bucket.length + 1 + folder.length;
    folders = level.folders.map((p) => p.slice(base, -1));
    objects = level.objects;
  }
  const relative = (info: ObjectInfo) => info.key.slice(bucket.length + 1 + folder.length);
  folders = folders.filter((name) => name.toLowerCase().startsWith(search));
  objects = objects.filter((info) => relative(info).toLowerCase().startsWith(search));

  const sign = descending ? -1 : 1;
  if (column === 'name') {
    const all: { name: string; info?: ObjectInfo }[] = [...folders.map((name) => ({ name })), ...objects.map((info) => ({ name: relative(info), info }))];
    all.sort((a, b) => sign * compareNames(a.name, b.name));
    const page = all.slice(offset, offset + limit);
    return Promise.all(page.map(async ({ name, info }) => (info ? objectEntry(name, info, await indexed(ctx, info)) : folderEntry(name))));
  }
  // Date sorts put folders first (by name), then objects by the column, as Supabase does.
  folders.sort((a, b) => sign * compareNames(a, b));
  const rows = await Promise.all(objects.map(async (info) => ({ info, row: await indexed(ctx, info) })));
  const at = (e: { info: ObjectInfo; row: CatalogObject }) => (column === 'created_at' ? e.row.createdAt : e.info.lastModified).getTime();
  rows.sort((a, b) => sign * (at(a) - at(b)) || compareBytes(a.info.key, b.info.key));
  const all: ListEntry[] = [...folders.map(folderEntry), ...rows.map((e) => objectEntry(relative(e.info), e.info, e.row))];
  return all.slice(offset, offset + limit);
}

export interface ListV2Options {
  prefix?: string;
  limit?: number;
  cursor?: string;
  with_delimiter?: boolean;
  sortBy?: { column?: string; order?: string };
}

export interface ListV2Result {
  hasNext: boolean;
  nextCursor?: string;
  nextCursorKey?: string;
  folders: { id: null; name: string; key: string; bucket_id: string }[];
  objects: (ListEntry & { key: string; bucket_id: string })[];
}

/**
 * Supabase's continuation token: base64 of `l:<last name>` lines (plus sort fields we do not
 * use). When the backend's own cursor is not simply the last key (a layer may wrap it), it
 * rides along as `b:<cursor>` so the next page continues exactly where this one stopped.
 */
export function encodeSupabaseCursor(lastName: string, backendCursor?: string): string {
  return Buffer.from(`l:${lastName}${backendCursor ? `\nb:${backendCursor}` : ''}`, 'utf8').toString('base64');
}

export function decodeSupabaseCursor(token: string): { after: string; backendCursor?: string } {
  const fields = new Map<string, string>();
  for (const line of Buffer.from(token, 'base64').toString('utf8').split('\n')) {
    const match = /^(\S):(.*)$/.exec(line);
    if (!match || !'locab'.includes(match[1]!)) throw new StorageError('InvalidArgument', 'Invalid Parameter continuation token');
    fields.set(match[1]!, match[2]!);
  }
  if ((fields.get('c') ?? 'name') !== 'name' || (fields.get('o') ?? 'asc') !== 'asc') {
    throw new StorageError('Unsupported', 'list-v2 cursors sorted by anything but name ascending are not supported');
  }
  return { after: fields.get('l') ?? '', backendCursor: fields.get('b') };
}

function lastOf(page: ListPage): string | undefined {
  const candidates = [page.objects.at(-1)?.key, page.prefixes.at(-1)].filter((k): k is string => k !== undefined);
  return candidates.sort(compareBytes).at(-1);
}

/**
 * One page after `after`. Backends take `encodeCursor(key)` to start after any key (the core
 * contract); one whose layers refuse such a cursor is paged from the start instead, skipping
 * what sorts before `after` — slower, still exact.
 */
async function pageAfter(ctx: ServiceContext, base: string, after: string | undefined, backendCursor: string | undefined, opts: { limit: number; delimiter?: string }): Promise<ListPage> {
  if (backendCursor !== undefined || after === undefined) return ctx.backend.list(base, { ...opts, cursor: backendCursor });
  try {
    return await ctx.backend.list(base, { ...opts, cursor: encodeCursor(after) });
  } catch (err) {
    if (!isStorageError(err, 'InvalidArgument')) throw err;
  }
  const page: ListPage = { objects: [], prefixes: [] };
  let cursor: string | undefined;
  do {
    const next = await ctx.backend.list(base, { ...opts, cursor, limit: 1000 });
    page.objects.push(...next.objects.filter((o) => compareBytes(o.key, after) > 0));
    page.prefixes.push(...next.prefixes.filter((p) => compareBytes(p, after) > 0));
    cursor = next.cursor;
  } while (cursor && page.objects.length + page.prefixes.length <= opts.limit);
  const merged: { key: string; object?: ObjectInfo }[] = [...page.objects.map((object) => ({ key: object.key, object })), ...page.prefixes.map((key) => ({ key }))];
  merged.sort((a, b) => compareBytes(a.key, b.key));
  const kept = merged.slice(0, opts.limit);
  const more = merged.length > opts.limit || cursor !== undefined;
  const result: ListPage = { objects: kept.flatMap((e) => (e.object ? [e.object] : [])), prefixes: kept.flatMap((e) => (e.object ? [] : [e.key])) };
  // A plain last-key cursor: the next page comes back here and skips again.
  if (more && kept.length > 0) result.cursor = encodeCursor(kept.at(-1)!.key);
  return result;
}

export async function listV2(ctx: ServiceContext, principal: Principal, bucket: string, opts: ListV2Options): Promise<ListV2Result> {
  bucketOf(ctx, bucket);
  if ((opts.sortBy?.column ?? 'name') !== 'name' || (opts.sortBy?.order ?? 'asc').toLowerCase() !== 'asc') {
    throw new StorageError('Unsupported', 'list-v2 sorts by name ascending only on bucketgate');
  }
  const asked = ctx.keys.prefixWithin(bucket, opts.prefix ?? '');
  const limit = Math.min(opts.limit ?? 1000, 1000);
  const after = opts.cursor ? decodeSupabaseCursor(opts.cursor) : undefined;
  const empty: ListV2Result = { hasNext: false, folders: [], objects: [] };
  const view = visibleUnder(ctx, principal, bucket, asked);
  if (!view) return empty;

  if (view.only !== undefined && opts.with_delimiter) {
    // Grouped above the user's own folder: that folder is the one entry there is.
    const name = `${asked}${view.only.slice(asked.length).split('/')[0]}/`;
    const exists = (await ctx.backend.list(`${bucket}/${view.only}`, { limit: 1 })).objects.length > 0;
    if (!exists || (after !== undefined && compareBytes(name, after.after) <= 0)) return empty;
    return { ...empty, folders: [{ id: null, name, key: name, bucket_id: bucket }] };
  }

  const page = await pageAfter(ctx, `${bucket}/${view.prefix}`, after === undefined ? undefined : `${bucket}/${after.after}`, after?.backendCursor, {
    limit,
    delimiter: opts.with_delimiter ? '/' : undefined,
  });
  const strip = (key: string) => key.slice(bucket.length + 1);
  const objects = await Promise.all(
    page.objects.map(async (info) => ({ ...objectEntry(strip(info.key), info, await indexed(ctx, info)), key: strip(info.key), bucket_id: bucket })),
  );
  const folders = page.prefixes.map((p) => ({ id: null, name: strip(p), key: strip(p), bucket_id: bucket }));
  const lastKey = lastOf(page);
  if (!page.cursor || lastKey === undefined) return { hasNext: false, folders, objects };
  const last = strip(lastKey);
  const plain = page.cursor === encodeCursor(lastKey);
  return { hasNext: true, nextCursor: encodeSupabaseCursor(last, plain ? undefined : page.cursor), nextCursorKey: last, folders, objects };
}
