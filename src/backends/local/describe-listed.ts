import { lstatSync } from 'node:fs';
import type { KeyRules, ParsedKey } from '../../core/keys.js';
import type { ObjectInfo } from '../../core/types.js';
import type { LocalContext } from './context.js';
import { plainSizeOf } from './encryption.js';
import { DEFAULT_CONTENT_TYPE, dataPath, describes, objectInfo, readSidecar } from './metadata.js';

/** Files described at once while building a page. */
const PARALLEL = 16;

function tryParse(keys: KeyRules, key: string): ParsedKey | undefined {
  try {
    return keys.parse(key);
  } catch {
    return undefined;
  }
}

/** Synchronous (see SYNC_METADATA in context.ts); undefined when the file is gone or unreadable. */
function statQuietly(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * ObjectInfo for each listed key. A file without a valid sidecar is listed as octet-stream
 * with a weak ETag from its inode, size and mtime: a listing never hashes whole files (head
 * and get do, once, and rewrite the sidecar). Keys gone since the folder was read are dropped.
 */
async function describeOne(ctx: LocalContext, key: string): Promise<ObjectInfo | undefined> {
  const parsed = tryParse(ctx.keys, key);
  if (!parsed) return undefined;
  const stat = statQuietly(dataPath(ctx, parsed));
  if (!stat?.isFile()) return undefined;
  const sidecar = await readSidecar(ctx, parsed);
  if (describes(sidecar, stat)) return objectInfo(parsed.key, sidecar, stat);
  return {
    key: parsed.key,
    // Sealed files: the content's size follows from the file's (checked when it is read).
    size: ctx.cipher ? (plainSizeOf(stat.size) ?? 0) : stat.size,
    etag: `W/"${stat.ino.toString(16)}-${stat.size.toString(16)}-${Math.trunc(stat.mtimeMs).toString(16)}"`,
    contentType: DEFAULT_CONTENT_TYPE,
    lastModified: stat.mtime,
    metadata: {},
  };
}

export async function describeListed(ctx: LocalContext, keys: string[]): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for (let i = 0; i < keys.length; i += PARALLEL) {
    const batch = await Promise.all(keys.slice(i, i + PARALLEL).map((key) => describeOne(ctx, key)));
    for (const info of batch) if (info) out.push(info);
  }
  return out;
}
