/**
 * Child process for the peak-RSS figure of bench/local.bench.ts: writes a file and reads it
 * back whole, then reports its own peak RSS at exit (bench/lib/rss.ts).
 *   local-io.ts library <source> <folder>  — put + get through the local backend (fsync on)
 *   local-io.ts plain   <source> <folder>  — the anchor: plain Node streams, same work, same fsync
 *   local-io.ts idle                       — node + tsx doing nothing: the floor both stand on
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { reportAtExit } from '../lib/rss.js';

const CHUNK = 1 << 20;
const [mode, source, folder] = process.argv.slice(2);
let bytesRead = 0;
reportAtExit(() => ({ mode, bytesRead }));

async function drain(body: Readable): Promise<void> {
  for await (const chunk of body) bytesRead += (chunk as Buffer).length;
}

async function viaLibrary(src: string, root: string): Promise<void> {
  const { createLocalBackend } = await import('../../src/backends/local/index.js');
  const backend = await createLocalBackend({ root });
  const key = 'uploads/bench/rss.bin';
  await backend.put(key, createReadStream(src, { highWaterMark: CHUNK }));
  const { body } = await backend.get(key);
  await drain(body);
  await backend.close();
}

async function viaPlainStreams(src: string, dir: string): Promise<void> {
  const target = join(dir, 'rss-plain.bin');
  await pipeline(createReadStream(src, { highWaterMark: CHUNK }), createWriteStream(target, { highWaterMark: CHUNK }));
  const fh = await open(target, 'r');
  await fh.sync();
  await fh.close();
  await drain(createReadStream(target, { highWaterMark: CHUNK }));
}

if (mode === 'library' && source && folder) await viaLibrary(source, folder);
else if (mode === 'plain' && source && folder) await viaPlainStreams(source, folder);
else if (mode !== 'idle') throw new Error('usage: local-io.ts library|plain <source> <folder> | idle');
