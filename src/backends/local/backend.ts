import { readFile, unlink, writeFile } from 'node:fs/promises';
import { Readable, addAbortSignal } from 'node:stream';
import { type Backend, type Capabilities, NO_CAPABILITIES } from '../../core/backend.js';
import { checkLimit, decodeCursor, encodeCursor } from '../../core/cursor.js';
import { StorageError, isStorageError } from '../../core/errors.js';
import type { ParsedKey } from '../../core/keys.js';
import { resolveRange } from '../../core/range.js';
import { BytesBody } from '../../core/streams.js';
import type {
  CopyOptions,
  DeleteManyResult,
  GetOptions,
  GetResult,
  HealthReport,
  ListOptions,
  ListPage,
  ObjectInfo,
  PresignedRequest,
  PutOptions,
  ResolvedRange,
} from '../../core/types.js';
import { type LocalContext, READ_CHUNK } from './context.js';
import { ENCRYPTION_SCHEME, sealedSize, tampered } from './encryption.js';
import { openSealedRange } from './sealed-read.js';
import { describeListed } from './describe-listed.js';
import { fromFsError } from './fs-errors.js';
import { listKeys } from './list.js';
import { makeSidecar, objectInfo } from './metadata.js';
import { INTERNAL_DIR, assertNoSymlinks, confinedJoin, tempName } from './paths.js';
import { openVersion, peekVersion } from './read.js';
import { readAhead } from './read-ahead.js';
import { removeObject } from './remove.js';
import { copyObject, moveObject, refuseIfExists } from './transfer.js';
import { checkDelimiter, checkDescribe, checkIfNoneMatch, checkPutOptions } from './validate.js';
import { commitStaged, stageBody } from './write.js';

/** Keys deleted at once by deleteMany. */
const DELETE_PARALLEL = 8;

function emptyBody(): Readable {
  return new Readable({
    read() {
      this.push(null);
    },
  });
}

/**
 * The local-disk backend: `<root>/<key>` holds the bytes (a plain file anyone can `cat`),
 * `<root>/.bucketgate/meta/…` the sidecars. See the files beside this one for each step.
 */
export class LocalBackend implements Backend {
  readonly kind = 'local';
  readonly capabilities: Capabilities;

  constructor(private readonly ctx: LocalContext) {
    this.capabilities = Object.freeze({ ...NO_CAPABILITIES, conditionalWrite: true, atomicMove: true, serverSideEncryption: ctx.cipher !== undefined });
  }

  /** The one choke point for keys: the shared rules, with parts bounded to a file name (index.ts). */
  private parse(key: string): ParsedKey {
    return this.ctx.keys.parse(key);
  }

  /** Real path of the bucket root. */
  get root(): string {
    return this.ctx.root;
  }

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<ObjectInfo> {
    const parsed = this.parse(key);
    const checked = checkPutOptions(opts);
    if (checked.createOnly) await refuseIfExists(this.ctx, parsed);
    const staged = await stageBody(this.ctx, parsed, body, {
      maxBytes: checked.maxBytes,
      contentLength: checked.contentLength,
      sha256: opts.sha256,
      signal: opts.signal,
    });
    const sidecar = makeSidecar(
      { size: staged.size, sha256: staged.sha256, contentType: checked.contentType, metadata: checked.metadata, cacheControl: checked.cacheControl, enc: this.ctx.cipher ? ENCRYPTION_SCHEME : undefined },
      staged.stat,
    );
    await commitStaged(this.ctx, parsed, staged, sidecar, checked.createOnly);
    return objectInfo(parsed.key, sidecar, staged.stat);
  }

  async get(key: string, opts: GetOptions = {}): Promise<GetResult> {
    const parsed = this.parse(key);
    opts.signal?.throwIfAborted();
    const small = peekVersion(this.ctx, parsed, true);
    if (small?.data) {
      const info = objectInfo(parsed.key, small.sidecar, small.stat);
      const range: ResolvedRange | undefined = opts.range ? resolveRange(opts.range, info.size) : undefined;
      const start = range?.start ?? 0;
      const end = range?.end ?? info.size - 1;
      const body = end < start ? emptyBody() : new BytesBody(small.data.subarray(start, end + 1));
      if (opts.signal) addAbortSignal(opts.signal, body);
      return range ? { info, body, range } : { info, body };
    }
    const { fh, stat, sidecar } = await openVersion(this.ctx, parsed);
    try {
      const info = objectInfo(parsed.key, sidecar, stat);
      const range: ResolvedRange | undefined = opts.range ? resolveRange(opts.range, info.size) : undefined;
      const start = range?.start ?? 0;
      const end = range?.end ?? info.size - 1;
      let body: Readable;
      if (this.ctx.cipher) {
        if (sealedSize(info.size) !== stat.size) throw tampered(parsed.key);
        // Decrypts only the chunks the range touches; the handle is closed by the stream.
        body = await openSealedRange(this.ctx.cipher, fh, info.size, start, end);
      } else if (end < start) {
        await fh.close();
        body = emptyBody();
      } else {
        // Reads through the handle opened above: a concurrent overwrite cannot mix versions.
        body = readAhead(fh, start, end, READ_CHUNK);
      }
      if (opts.signal) addAbortSignal(opts.signal, body);
      return range ? { info, body, range } : { info, body };
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo> {
    const parsed = this.parse(key);
    const peeked = peekVersion(this.ctx, parsed, false);
    if (peeked) return objectInfo(parsed.key, peeked.sidecar, peeked.stat);
    const { fh, stat, sidecar } = await openVersion(this.ctx, parsed);
    await fh.close();
    return objectInfo(parsed.key, sidecar, stat);
  }

  async delete(key: string): Promise<void> {
    await removeObject(this.ctx, this.parse(key));
  }

  async deleteMany(keys: readonly string[]): Promise<DeleteManyResult> {
    if (!Array.isArray(keys)) throw new StorageError('InvalidArgument', 'deleteMany takes an array of keys');
    const result: DeleteManyResult = { deleted: [], errors: [] };
    for (let i = 0; i < keys.length; i += DELETE_PARALLEL) {
      const batch = keys.slice(i, i + DELETE_PARALLEL);
      const outcomes = await Promise.allSettled(batch.map((key) => this.delete(key)));
      outcomes.forEach((outcome, j) => {
        const key = batch[j] as string;
        if (outcome.status === 'fulfilled') result.deleted.push(key);
        else {
          const err = isStorageError(outcome.reason) ? outcome.reason : fromFsError(outcome.reason, String(key), 'delete');
          result.errors.push({ key: String(key), code: err.code, message: err.message });
        }
      });
    }
    return result;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListPage> {
    const parsedPrefix = this.ctx.keys.parsePrefix(prefix);
    const limit = checkLimit(opts.limit);
    const after = decodeCursor(opts.cursor);
    const delimiter = checkDelimiter(opts.delimiter);
    checkDescribe(opts.describe); // sidecars are read from the page cache either way
    try {
      // One item more than the page shows, so the last page carries no cursor.
      const items = await listKeys(this.ctx, { prefix: parsedPrefix, delimiter, after, count: limit + 1 });
      const page = items.slice(0, limit);
      const objects = await describeListed(
        this.ctx,
        page.flatMap((item) => (item.kind === 'object' ? [item.key] : [])),
      );
      const prefixes = page.flatMap((item) => (item.kind === 'prefix' ? [item.prefix] : []));
      const last = page[page.length - 1];
      const result: ListPage = { objects, prefixes };
      if (items.length > limit && last) result.cursor = encodeCursor(last.kind === 'object' ? last.key : last.prefix);
      return result;
    } catch (err) {
      throw fromFsError(err, parsedPrefix === '' ? '(all)' : parsedPrefix, 'list');
    }
  }

  async copy(from: string, to: string, opts: CopyOptions = {}): Promise<ObjectInfo> {
    const source = this.parse(from);
    const target = this.parse(to);
    return copyObject(this.ctx, source, target, checkIfNoneMatch(opts.ifNoneMatch));
  }

  async move(from: string, to: string, opts: CopyOptions = {}): Promise<ObjectInfo> {
    const source = this.parse(from);
    const target = this.parse(to);
    return moveObject(this.ctx, source, target, checkIfNoneMatch(opts.ifNoneMatch));
  }

  async presign(): Promise<PresignedRequest> {
    throw new StorageError('Unsupported', 'the local backend cannot presign; the service issues signed upload tokens instead');
  }

  /** Writes, reads back and removes a small probe in `.bucketgate/`. */
  async health(): Promise<HealthReport> {
    const started = performance.now();
    const probe = confinedJoin(this.ctx.root, INTERNAL_DIR, tempName());
    const text = `probe ${Date.now()}`;
    try {
      await assertNoSymlinks(confinedJoin(this.ctx.root, INTERNAL_DIR));
      await writeFile(probe, text, { flag: 'wx' });
      const back = await readFile(probe, 'utf8');
      if (back !== text) throw new StorageError('BackendUnavailable', 'the bucket folder returned other bytes than were written');
      return { ok: true, latencyMs: performance.now() - started };
    } catch (err) {
      const mapped = fromFsError(err, 'health probe', 'write');
      throw mapped.code === 'BackendUnavailable' ? mapped : new StorageError('BackendUnavailable', `the bucket folder failed a health check: ${mapped.message}`, { cause: err });
    } finally {
      await unlink(probe).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    // Nothing to release: every operation opens and closes its own files.
  }
}
