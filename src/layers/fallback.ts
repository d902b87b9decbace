import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import type { Backend } from '../core/backend.js';
import { StorageError, isStorageError } from '../core/errors.js';
import type { KeyRules } from '../core/keys.js';
import { etagFromSha256 } from '../core/streams.js';
import type { GetOptions, GetResult, ListOptions, ListPage, ObjectInfo, PutOptions } from '../core/types.js';
import type { Layer } from './layer.js';
import type { Outbox, OutboxEntry } from './outbox.js';
import { reopen } from './replayable.js';

/**
 * Automatic fallback. A write the primary cannot take (BackendUnavailable, which includes an
 * open circuit — never NotFound, never a client error) is stored on the fallback under a blob
 * name of its own and recorded in the durable outbox; the replayer (replayer.ts) later moves it
 * to the primary. Reads find an object wherever it is: the outbox is the index of what waits on
 * the fallback, and a key with a live entry is read from there (or is absent, for a delete).
 *
 * Per-key order is the outbox's: while a key has a live entry, new writes to it join the outbox
 * too instead of racing the replay to the primary. Blobs are never overwritten (one per entry),
 * so a replay in flight can never copy or remove bytes that a newer write put there.
 *
 * A one-shot body (bigger than the replay buffer, see replayable.ts) can only fall back when
 * the primary failed without reading it — in practice, when the circuit is open; otherwise its
 * failure goes to the caller, who may send it again. Create-only writes (`ifNoneMatch`) never
 * fall back: whether the key exists is only known to the unreachable primary.
 */
export const BLOB_SEGMENT = 'outbox';

export interface FallbackOptions {
  fallback: Backend;
  outbox: Outbox;
  /** Identity of the fallback store (e.g. `local:/srv/bucket/.bucketgate/fallback`). */
  fallbackId: string;
  /**
   * The primary's key rules. Keys are checked (and normalised) here, before the outbox is asked
   * or a write diverted: with the circuit open the primary never sees a key, and a write it
   * could never take would be accepted, then fail on replay.
   */
  keys: KeyRules;
  /** Told of every write diverted to the fallback, for metrics. */
  onDivert?: (operation: 'put' | 'delete', key: string) => void;
  /**
   * Whether an outage diverts a write now (default: always). Only a process that runs the
   * replayer should: a one-shot command's diverted write would wait until some service replays
   * it, and was reported done meanwhile. Without, the outage is the caller's to see. A key that
   * already has writes waiting is still written behind them either way, to keep their order.
   */
  divertOnOutage?: () => boolean;
}

/** A failure that means "the primary cannot take this now", as opposed to "this request is wrong". */
export function primaryUnavailable(err: unknown): boolean {
  return isStorageError(err, 'BackendUnavailable');
}

/** `outbox/<host>.<pid>.<random>`: the writer's pid lets a restart sweep the blobs a crash orphaned at once. */
export function newBlobKey(): string {
  const host = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'host';
  return `${BLOB_SEGMENT}/${host}.${process.pid}.${randomBytes(12).toString('hex')}`;
}

/**
 * A body nobody has read from yet, nor set flowing: it can still go elsewhere. A flowing body
 * is already someone's (a layer below that gave up may have resumed it to let its source
 * finish), and its bytes would drain away before the fallback read them.
 */
function untouched(body: Readable): boolean {
  return !body.readableDidRead && body.readableFlowing !== true && !body.destroyed && !body.readableEnded;
}

interface ListCursor {
  /** The primary's cursor. */
  c?: string;
  /** The last key the previous page covered. */
  a?: string;
}

const encodeCursor = (c: ListCursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(cursor: string | undefined): ListCursor {
  if (!cursor) return {};
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as ListCursor;
    if (typeof parsed === 'object' && parsed !== null) return parsed;
  } catch {
    // fall through
  }
  throw new StorageError('InvalidArgument', 'list cursor is malformed');
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function infoOf(entry: OutboxEntry): ObjectInfo {
  return {
    key: entry.key,
    size: entry.size ?? 0,
    etag: entry.sha256 ? etagFromSha256(entry.sha256) : '""',
    ...(entry.sha256 ? { sha256: entry.sha256 } : {}),
    contentType: entry.contentType ?? 'application/octet-stream',
    lastModified: entry.createdAt,
    metadata: entry.metadata ?? {},
    location: 'fallback',
  };
}

/** How often a read follows a key's newer entries when the blob it found was gone. */
const MAX_LOOKS = 5;

export function fallbackLayer(opts: FallbackOptions): Layer {
  const { fallback, outbox, fallbackId } = opts;
  const diverting = opts.divertOnOutage ?? (() => true);
  const checked = (key: string) => opts.keys.parse(key).key;

  const liveEntry = async (key: string) => (await outbox.latest([key])).get(key);

  return (primary: Backend): Backend => {
    /** Stores the body on the fallback and records it; the write is accepted once both are durable. */
    async function divertPut(key: string, body: Readable, putOpts: PutOptions): Promise<ObjectInfo> {
      const blob = newBlobKey();
      const hash = createHash('sha256');
      async function* measured() {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          hash.update(chunk);
          yield chunk;
        }
      }
      const stored = await fallback.put(blob, Readable.from(measured(), { objectMode: false }), {
        contentType: putOpts.contentType,
        metadata: putOpts.metadata,
        cacheControl: putOpts.cacheControl,
        maxBytes: putOpts.maxBytes,
        contentLength: putOpts.contentLength,
        sha256: putOpts.sha256,
        signal: putOpts.signal,
      });
      const sha256 = stored.sha256 ?? hash.digest('hex');
      let superseded: OutboxEntry[] = [];
      try {
        ({ superseded } = await outbox.enqueue({
          key,
          op: 'put',
          blob,
          size: stored.size,
          sha256,
          contentType: stored.contentType,
          metadata: putOpts.metadata ?? null,
          cacheControl: putOpts.cacheControl ?? null,
          fallback: fallbackId,
        }));
      } catch (err) {
        // The entry may be committed with only the answer lost: then it is live, the write is
        // accepted, and its blob must stay (blobs it superseded are left to the start-up sweep).
        // Only a blob that is surely no entry's goes at once; when the catalog cannot say, it
        // stays for the sweep too.
        const live = await liveEntry(key).catch(() => 'unknown' as const);
        if (live === 'unknown') throw err;
        if (live?.blob !== blob) {
          await fallback.delete(blob).catch(() => undefined);
          throw err;
        }
      }
      opts.onDivert?.('put', key);
      await dropBlobs(superseded);
      return { ...stored, key, sha256, etag: etagFromSha256(sha256), location: 'fallback' };
    }

    async function divertDelete(key: string): Promise<void> {
      const { superseded } = await outbox.enqueue({ key, op: 'delete', blob: null, size: null, sha256: null, contentType: null, metadata: null, cacheControl: null, fallback: fallbackId });
      opts.onDivert?.('delete', key);
      await dropBlobs(superseded);
    }

    /** Superseded bytes are garbage now; a failure here only leaves work for the sweep. */
    async function dropBlobs(entries: OutboxEntry[]): Promise<void> {
      const blobs = entries.filter((e) => e.blob && e.fallback === fallbackId).map((e) => e.blob!);
      if (blobs.length) await fallback.deleteMany(blobs).catch(() => undefined);
    }

    /**
     * Reads what `entry` holds. Its blob may be gone since the entry was looked up: replayed (the
     * bytes are on the primary now) or superseded by a newer write (whose bytes are the ones to
     * read: the primary may still hold what preceded the outage). So the outbox is asked again.
     */
    async function readEntry(entry: OutboxEntry, key: string, getOpts?: GetOptions): Promise<GetResult> {
      for (let current = entry, looks = 1; ; looks++) {
        if (current.op === 'delete') throw new StorageError('NotFound', `no object at ${key}`);
        try {
          const result = await fallback.get(current.blob!, getOpts);
          return { ...result, info: { ...result.info, key, location: 'fallback' } };
        } catch (err) {
          if (!isStorageError(err, 'NotFound')) throw err;
        }
        const now = await liveEntry(key);
        if (!now) return primary.get(key, getOpts);
        // The same live entry without its bytes should not happen (blobs go only after their entry ends).
        if (now.seq === current.seq || looks >= MAX_LOOKS) {
          throw new StorageError('BackendUnavailable', `the fallback copy of ${key} is missing; try again`, { temporary: true });
        }
        current = now;
      }
    }

    /** Reads from wherever the newest version is; a primary outage is survived for what waits on the fallback. */
    async function locate<T>(key: string, fromEntry: (e: OutboxEntry) => Promise<T>, fromPrimary: () => Promise<T>): Promise<T> {
      const entry = await liveEntry(key);
      if (entry) return fromEntry(entry);
      try {
        return await fromPrimary();
      } catch (err) {
        if (!primaryUnavailable(err)) throw err;
        const late = await liveEntry(key);
        if (late) return fromEntry(late);
        throw err;
      }
    }

    async function put(rawKey: string, body: Readable, putOpts: PutOptions = {}): Promise<ObjectInfo> {
      const key = checked(rawKey);
      const entry = await liveEntry(key);
      if (entry) {
        if (putOpts.ifNoneMatch === '*') {
          if (entry.op === 'put') throw new StorageError('AlreadyExists', `${key} already exists`);
          // A queued delete makes the key absent, but only the primary could say so atomically.
          throw new StorageError('BackendUnavailable', `${key} has a delete waiting for replay; create-only writes to it must wait`, { temporary: true });
        }
        return divertPut(key, body, putOpts);
      }
      try {
        return await primary.put(key, body, putOpts);
      } catch (err) {
        if (!primaryUnavailable(err) || putOpts.ifNoneMatch || !diverting()) throw err;
        const again = reopen(body) ?? (untouched(body) ? body : undefined);
        if (!again) throw err;
        return divertPut(key, again, putOpts).catch((fallbackErr: unknown) => {
          // The caller's own mistakes stay theirs; a fallback that cannot help either leaves the outage to report.
          if (isStorageError(fallbackErr) && ['TooLarge', 'ChecksumMismatch', 'InvalidArgument'].includes(fallbackErr.code)) throw fallbackErr;
          throw err;
        });
      }
    }

    async function del(rawKey: string): Promise<void> {
      const key = checked(rawKey);
      if (await liveEntry(key)) return divertDelete(key);
      try {
        await primary.delete(key);
      } catch (err) {
        if (!primaryUnavailable(err) || !diverting()) throw err;
        await divertDelete(key);
      }
    }

    async function list(prefix: string, listOpts: ListOptions = {}): Promise<ListPage> {
      const cursor = decodeCursor(listOpts.cursor);
      const page = await primary.list(prefix, { ...listOpts, cursor: cursor.c });
      const lastObject = page.objects.at(-1)?.key;
      const lastPrefix = page.prefixes.at(-1);
      const candidates = [lastObject, lastPrefix ? `${lastPrefix}\u{10ffff}` : undefined].filter((k): k is string => k !== undefined);
      const through = page.cursor ? candidates.sort(byteOrder).at(-1) : undefined;
      const next = page.cursor ? encodeCursor({ c: page.cursor, a: through }) : undefined;
      const entries = await outbox.liveUnder(prefix, { after: cursor.a, through, limit: 10_000 });
      if (entries.length === 0) return { ...page, ...(next ? { cursor: next } : { cursor: undefined }) };
      // Overlay what waits in the outbox on what the primary holds. A page may come out a little
      // longer than asked: the primary's cursor cannot restart at an arbitrary key.
      const objects = new Map(page.objects.map((o) => [o.key, o]));
      const prefixes = new Set(page.prefixes);
      for (const entry of entries) {
        const rest = entry.key.slice(prefix.length);
        const cut = listOpts.delimiter ? rest.indexOf(listOpts.delimiter) : -1;
        if (cut >= 0) {
          if (entry.op === 'put') prefixes.add(prefix + rest.slice(0, cut + listOpts.delimiter!.length));
          continue; // a delete inside a common prefix cannot be told from the primary's other keys there
        }
        if (entry.op === 'delete') objects.delete(entry.key);
        else objects.set(entry.key, infoOf(entry));
      }
      return {
        objects: [...objects.values()].sort((a, b) => byteOrder(a.key, b.key)),
        prefixes: [...prefixes].sort(byteOrder),
        ...(next ? { cursor: next } : {}),
      };
    }

    function head(key: string): Promise<ObjectInfo> {
      return locate(
        key,
        async (e) => {
          if (e.op === 'delete') throw new StorageError('NotFound', `no object at ${key}`);
          return infoOf(e);
        },
        () => primary.head(key),
      );
    }

    /** Copies through this layer (so the outbox's view and order hold) when either key is in it. */
    async function copyThrough(from: string, to: string, ifNoneMatch: '*' | undefined): Promise<ObjectInfo> {
      // Both keys are checked by the caller.
      const source = await locate(from, (e) => readEntry(e, from), () => primary.get(from));
      return put(to, source.body, { contentType: source.info.contentType, metadata: source.info.metadata, contentLength: source.info.size, ifNoneMatch });
    }

    return {
      kind: primary.kind,
      capabilities: primary.capabilities,
      put,
      get(rawKey, getOpts) {
        const key = checked(rawKey);
        return locate(key, (e) => readEntry(e, key, getOpts), () => primary.get(key, getOpts));
      },
      head: (rawKey) => head(checked(rawKey)),
      delete: del,
      async deleteMany(rawKeys) {
        if (!Array.isArray(rawKeys)) throw new StorageError('InvalidArgument', 'deleteMany takes an array of keys');
        const result = { deleted: [] as string[], errors: [] as { key: string; code: string; message: string }[] };
        const keys: string[] = [];
        for (const raw of rawKeys) {
          try {
            keys.push(checked(raw));
          } catch (err) {
            const refusal = isStorageError(err) ? err : new StorageError('InvalidKey', 'invalid key');
            result.errors.push({ key: String(raw), code: refusal.code, message: refusal.message });
          }
        }
        const live = await outbox.latest(keys);
        const direct = keys.filter((k) => !live.has(k));
        if (direct.length) {
          try {
            const r = await primary.deleteMany(direct);
            result.deleted.push(...r.deleted);
            result.errors.push(...r.errors);
          } catch (err) {
            if (!primaryUnavailable(err) || !diverting()) throw err;
            for (const k of direct) await divertDelete(k);
            result.deleted.push(...direct);
          }
        }
        for (const k of keys.filter((k) => live.has(k))) {
          await divertDelete(k);
          result.deleted.push(k);
        }
        return result;
      },
      list,
      async copy(rawFrom, rawTo, copyOpts) {
        const [from, to] = [checked(rawFrom), checked(rawTo)];
        const live = await outbox.latest([from, to]);
        if (live.size) return copyThrough(from, to, copyOpts?.ifNoneMatch);
        return primary.copy(from, to, copyOpts);
      },
      async move(rawFrom, rawTo, moveOpts) {
        const [from, to] = [checked(rawFrom), checked(rawTo)];
        // Onto itself: the object stays (as every backend does); a copy then a delete would lose it.
        if (from === to) {
          const info = await head(from);
          if (moveOpts?.ifNoneMatch === '*') throw new StorageError('AlreadyExists', `${to} already exists`);
          return info;
        }
        const live = await outbox.latest([from, to]);
        if (!live.size) return primary.move(from, to, moveOpts);
        const info = await copyThrough(from, to, moveOpts?.ifNoneMatch);
        await del(from);
        return info;
      },
      presign: (key, presignOpts) => primary.presign(key, presignOpts),
      health: () => primary.health(),
      async close() {
        await primary.close();
        await fallback.close();
      },
    };
  };
}

