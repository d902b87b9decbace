import { randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { StorageError } from '../core/errors.js';
import { guessContentType } from '../service/content-type.js';
import { createStorage } from '../service/storage.js';
import { formatBytes, printJson, table } from './output.js';

/** Keys on the command line are written `bg://segment/path`, so they never look like local files. */
const REMOTE = 'bg://';
const isRemote = (s: string) => s.startsWith(REMOTE);
const keyOf = (s: string) => s.slice(REMOTE.length);

/** The size of a file to upload; one that is no readable regular file is refused before anything is sent. */
async function regularFileSize(path: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
    await access(path, constants.R_OK);
  } catch (err) {
    throw new StorageError('InvalidArgument', `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!info.isFile()) throw new StorageError('InvalidArgument', `${path} is not a regular file`);
  return info.size;
}

/**
 * Writes a download beside `target` and renames it into place once whole: a read that fails half
 * way (a damaged object, a lost backend) leaves an existing file as it was, and no partial one.
 */
async function writeFileAtomically(target: string, body: NodeJS.ReadableStream): Promise<void> {
  const temp = join(dirname(target), `.${basename(target)}.bg-download-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await pipeline(body, createWriteStream(temp, { flags: 'wx' }));
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

async function withStorage<T>(work: (storage: Awaited<ReturnType<typeof createStorage>>) => Promise<T>): Promise<T> {
  const storage = await createStorage();
  try {
    return await work(storage);
  } finally {
    await storage.close();
  }
}

export function registerObjectCommands(program: Command) {
  program
    .command('ls')
    .description('List objects: `ls` shows segments, `ls bg://videos/2025/` one level under a prefix')
    .argument('[prefix]', 'bg://segment/prefix')
    .option('-r, --recursive', 'every key under the prefix, not one level')
    .option('--limit <n>', 'at most this many entries', '1000')
    .option('--json', 'print JSON')
    .action(async (raw: string | undefined, opts: { recursive?: boolean; limit: string; json?: boolean }) =>
      withStorage(async (storage) => {
        if (raw !== undefined && !isRemote(raw)) throw new StorageError('InvalidArgument', `prefix must look like ${REMOTE}segment/path`);
        const prefix = storage.keys.parsePrefix(raw === undefined ? '' : keyOf(raw));
        const limit = Number(opts.limit);
        const rows: { key: string; size: number | string; type: string; modified: string }[] = [];
        if (prefix === '' && !opts.recursive) {
          for (const s of storage.keys.segments) rows.push({ key: `${s}/`, size: '', type: 'segment', modified: '' });
        } else {
          let cursor: string | undefined;
          do {
            const page = await storage.backend.list(prefix, { cursor, limit: Math.min(1000, limit - rows.length), delimiter: opts.recursive ? undefined : '/' });
            for (const p of page.prefixes) rows.push({ key: p, size: '', type: 'folder', modified: '' });
            for (const o of page.objects) rows.push({ key: o.key, size: o.size, type: o.contentType, modified: o.lastModified.toISOString() });
            cursor = page.cursor;
          } while (cursor && rows.length < limit);
        }
        if (opts.json) printJson(rows);
        else console.log(table(rows.map((r) => ({ ...r, size: typeof r.size === 'number' ? formatBytes(r.size) : r.size }))));
      }),
    );

  program
    .command('cat')
    .description('Write an object to standard output')
    .argument('<key>', 'bg://segment/path')
    .action(async (raw: string) =>
      withStorage(async (storage) => {
        if (!isRemote(raw)) throw new StorageError('InvalidArgument', `key must look like ${REMOTE}segment/path`);
        const { body } = await storage.backend.get(storage.keys.parse(keyOf(raw)).key);
        await pipeline(body, process.stdout, { end: false });
      }),
    );

  program
    .command('cp')
    .description('Copy a file into the store, out of it, or within it (keys are bg://segment/path; - is stdin/stdout)')
    .argument('<source>')
    .argument('<target>')
    .option('--content-type <type>', 'content type of an upload (default: from the file name)')
    .option('--json', 'print JSON (to standard error when the object goes to standard output)')
    .action(async (source: string, target: string, opts: { contentType?: string; json?: boolean }) =>
      withStorage(async (storage) => {
        let result: unknown;
        if (!isRemote(source) && isRemote(target)) {
          if (source === '-' && keyOf(target).endsWith('/')) throw new StorageError('InvalidArgument', `standard input has no name: give the whole key (${REMOTE}${keyOf(target)}name)`);
          const parsed = storage.keys.parse(keyOf(target).endsWith('/') ? `${keyOf(target)}${basename(source)}` : keyOf(target));
          const contentLength = source === '-' ? undefined : await regularFileSize(source);
          const body = source === '-' ? process.stdin : createReadStream(source);
          result = await storage.uploadStream(parsed.segment, parsed.path, body, { contentType: opts.contentType ?? guessContentType(parsed.path), contentLength });
        } else if (isRemote(source) && !isRemote(target)) {
          const { body, info } = await storage.backend.get(storage.keys.parse(keyOf(source)).key);
          if (target === '-') await pipeline(body, process.stdout, { end: false });
          else await writeFileAtomically(target, body);
          result = { key: info.key, size: info.size, to: target };
        } else if (isRemote(source) && isRemote(target)) {
          const from = storage.keys.parse(keyOf(source));
          const to = storage.keys.parse(keyOf(target));
          const stored = await storage.copyContent({ segment: from.segment, filename: from.path }, { segment: to.segment, filename: to.path });
          result = { key: stored.key, size: stored.size, from: from.key };
        } else {
          throw new StorageError('InvalidArgument', `one side must be a key (${REMOTE}segment/path)`);
        }
        // The object itself may be on standard output: what is said about it goes beside it.
        const say = target === '-' ? (text: string) => process.stderr.write(`${text}\n`) : (text: string) => console.log(text);
        if (opts.json) say(JSON.stringify(result, null, 2));
        else if (target !== '-') say(`copied ${source} -> ${target}`);
      }),
    );

  program
    .command('rm')
    .description('Delete objects')
    .argument('<keys...>', 'bg://segment/path …')
    .option('--json', 'print JSON')
    .action(async (raws: string[], opts: { json?: boolean }) =>
      withStorage(async (storage) => {
        const parsed = raws.map((r) => {
          if (!isRemote(r)) throw new StorageError('InvalidArgument', `key must look like ${REMOTE}segment/path: ${r}`);
          return storage.keys.parse(keyOf(r));
        });
        for (const p of parsed) await storage.deleteContent(p.segment, p.path);
        if (opts.json) printJson({ deleted: parsed.map((p) => p.key) });
        else for (const p of parsed) console.log(`deleted ${REMOTE}${p.key}`);
      }),
    );

  program
    .command('stats')
    .description('Object count and bytes per segment (from the catalog)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) =>
      withStorage(async (storage) => {
        const stats = await storage.stats();
        if (opts.json) return printJson(stats);
        const rows = Object.entries(stats.segments).map(([segment, v]) => ({ segment, objects: v.count, bytes: formatBytes(v.bytes) }));
        rows.push({ segment: 'total', objects: stats.total.count, bytes: formatBytes(stats.total.bytes) });
        console.log(table(rows));
      }),
    );
}
