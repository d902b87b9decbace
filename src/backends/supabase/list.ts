import { checkLimit, encodeCursor } from '../../core/cursor.js';
import { StorageError } from '../../core/errors.js';
import { checkDescribe } from '../../core/put-options.js';
import type { KeyRules } from '../../core/keys.js';
import type { ListOptions, ListPage } from '../../core/types.js';
import { type SupabaseClient, encodeName } from './client.js';
import { type ObjectRow, infoFromRow } from './metadata.js';

/**
 * Listing over Supabase's list-v2 (`POST /object/list-v2/{bucket}`): a prefix, optional `/`
 * grouping and cursor paging, sorted by name in byte order (`COLLATE "C"`) — what our contract
 * asks. The cursors we hand out carry the server's own continuation token, passed back as is;
 * a cursor made from a key (the core convention) becomes Supabase's `l:<last name>` token, so
 * it resumes right after that key. Names outside the segments (the staging folder, anything
 * put there by others) are not ours and are left out.
 */
interface ListV2Answer {
  hasNext?: boolean;
  nextCursor?: string;
  nextCursorKey?: string;
  folders?: { name: string }[];
  objects?: (ObjectRow & { name: string })[];
}

const supabaseCursor = (lastName: string) => Buffer.from(`l:${lastName}`, 'utf8').toString('base64');

/** Keys never hold control characters, so a leading NUL marks a server token rather than a key. */
const TOKEN_MARK = '\u0000';
const MAX_CURSOR = 16 * 1024;

function decodeOurCursor(cursor: string | undefined): { token?: string; after?: string } {
  if (cursor === undefined || cursor === '') return {};
  if (cursor.length > MAX_CURSOR || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new StorageError('InvalidArgument', 'malformed list cursor');
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return text.startsWith(TOKEN_MARK) ? { token: text.slice(1) } : { after: text };
}

/** The last name of a page, from the answer's key or, failing that, from its token. */
function lastNameOf(answer: ListV2Answer): string | undefined {
  if (answer.nextCursorKey) return answer.nextCursorKey;
  if (!answer.nextCursor) return undefined;
  const line = Buffer.from(answer.nextCursor, 'base64').toString('utf8').split('\n').find((l) => l.startsWith('l:'));
  return line?.slice(2);
}

export async function listObjects(client: SupabaseClient, bucket: string, keys: KeyRules, prefix: string, opts: ListOptions): Promise<ListPage> {
  const checked = keys.parsePrefix(prefix);
  const limit = checkLimit(opts.limit);
  const from = decodeOurCursor(opts.cursor);
  checkDescribe(opts.describe); // list-v2 describes every object in the same answer
  if (opts.delimiter !== undefined && opts.delimiter !== '' && opts.delimiter !== '/') {
    throw new StorageError('Unsupported', 'Supabase Storage groups by "/" only');
  }
  const answer = await client.json<ListV2Answer>('POST', `/object/list-v2/${encodeName(bucket)}`, 'list', {
    json: {
      prefix: checked,
      limit,
      with_delimiter: opts.delimiter === '/',
      ...(from.token !== undefined ? { cursor: from.token } : from.after !== undefined ? { cursor: supabaseCursor(from.after) } : {}),
    },
  });
  const ours = (name: string) => keys.isSegment(name.split('/')[0]!);
  const objects = (answer.objects ?? []).filter((o) => ours(o.name)).map((o) => infoFromRow(o.name, o));
  const prefixes = (answer.folders ?? []).map((f) => (f.name.endsWith('/') ? f.name : `${f.name}/`)).filter(ours);
  if (!answer.hasNext) return { objects, prefixes };
  const cursor = answer.nextCursor ? encodeCursor(`${TOKEN_MARK}${answer.nextCursor}`) : lastNameOf(answer) !== undefined ? encodeCursor(lastNameOf(answer)!) : undefined;
  return cursor === undefined ? { objects, prefixes } : { objects, prefixes, cursor };
}
