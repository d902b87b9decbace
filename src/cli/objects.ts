import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
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
    .option('--json', 'print JSON')
    .action(async (source: string, target: string, opts: { contentType?: string; json?: boolean }) =>
      withStorage(async (storage) => {
        let result: unknown;
        if (!isRemote(source) && isRemote(target)) {
          const parsed = storage.keys.parse(keyOf(target).endsWith('/') ? `${keyOf(target)}${basename(source)}` : keyOf(target));
          const body = source === '-' ? process.stdin : createReadStream(source);
          const contentLength = source === '-' ? undefined : (await stat(source)).size;
          result = await storage.uploadStream(parsed.segment, parsed.path, body, { contentType: opts.contentType ?? guessContentType(parsed.path), contentLength });
        } else if (isRemote(source) && !isRemote(target)) {
          const { body, info } = await storage.backend.get(storage.keys.parse(keyOf(source)).key);
          await pipeline(body, target === '-' ? process.stdout : createWriteStream(target));
          result = { key: info.key, size: info.size, to: target };
        } else if (isRemote(source) && isRemote(target)) {
          const from = storage.keys.parse(keyOf(source));
          const to = storage.keys.parse(keyOf(target));
          const info = await storage.backend.copy(from.key, to.key);
          await storage.catalog.upsertObject({ key: info.key, segment: to.segment, size: info.size, contentType: info.contentType, etag: info.etag, sha256: info.sha256 ?? null, owner: null, location: info.location ?? 'primary' });
          result = { key: info.key, size: info.size, from: from.key };
        } else {
          throw new StorageError('InvalidArgument', `one side must be a key (${REMOTE}segment/path)`);
        }
        if (opts.json) printJson(result);
        else if (target !== '-') console.log(`copied ${source} -> ${target}`);
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
