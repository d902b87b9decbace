/**
 * Issue 2: write and read a 100 MiB file through the local backend, against `cp` and `cat` of
 * the same file on the same file system, in the same run; plus SHA-256 alone and peak RSS.
 * Everything is measured with warm page cache (the source was just written): the anchors and
 * the library read the same cached bytes, so the ratio is the library's own overhead.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { releaseChunk } from '../src/core/lent-chunks.js';
import { defineBench } from './lib/bench.js';
import { findCommand, missingCommands, runQuiet } from './lib/commands.js';
import { freshDir, fsyncFile, randomFile, removeQuietly, sameFileSystem } from './lib/files.js';
import { MiB, interleave, median, pairedRatio, throughput } from './lib/measure.js';
import { runChild } from './lib/rss.js';

const KEY = 'uploads/bench/file.bin';
const CHUNK = MiB;
const backendModule = fileURLToPath(new URL('../src/backends/local/index.ts', import.meta.url));
const ioChild = fileURLToPath(new URL('./children/local-io.ts', import.meta.url));

/** Reads a body to its end; `release` hands each chunk back once counted (core/lent-chunks.ts). */
async function drain(body: Readable, release = false): Promise<number> {
  let bytes = 0;
  for await (const chunk of body) {
    bytes += (chunk as Buffer).length;
    if (release) releaseChunk(chunk as Buffer);
  }
  return bytes;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export default defineBench({
  describe: 'local backend: 100 MiB put/get vs cp / cp+sync / cat, SHA-256, peak RSS',

  async missing() {
    try {
      await access(backendModule);
    } catch {
      return 'src/backends/local/index.ts (createLocalBackend) is not there yet';
    }
    return missingCommands(['cp', 'cat', 'sync'], 'coreutils');
  },

  async run(ctx) {
    const { createLocalBackend } = await import('../src/backends/local/index.js');
    const source = await randomFile();
    const bytes = (await stat(source)).size;
    const sizeLabel = `${bytes / MiB} MiB`;
    const bucket = await freshDir('local-bucket');
    const anchors = await freshDir('local-anchors');
    if (!(await sameFileSystem(source, bucket))) throw new Error('source and bucket are on different file systems');

    const synced = await createLocalBackend({ root: bucket });
    const unsynced = await createLocalBackend({ root: bucket, fsync: false });
    const objectPath = join(synced.root, KEY);
    const copyPath = join(anchors, 'cp-copy.bin');
    const nodeCopyPath = join(anchors, 'node-copy.bin');
    const put = (backend: typeof synced) => () =>
      backend.put(KEY, createReadStream(source, { highWaterMark: CHUNK }), { contentLength: bytes, contentType: 'application/octet-stream' });
    const removeObject = async () => {
      await synced.delete(KEY);
    };
    const removeCopy = () => removeQuietly(copyPath);
    // --reflink=never: on btrfs/XFS cp would clone blocks instead of copying bytes.
    const cp = () => runQuiet('cp', ['--reflink=never', source, copyPath]);

    // Every case writes a fresh file (the previous one removed, untimed) and leaves nothing
    // dirty behind (untimed fsync), so no case pays for another's write-back.
    ctx.log(`write: ${ctx.runs} interleaved rounds of 5 cases`);
    const [libSync, libNoSync, cpOnly, cpSync, nodeCopy] = await interleave(
      [
        { name: 'library put (fsync)', before: removeObject, run: put(synced) },
        { name: 'library put (no fsync)', before: removeObject, run: put(unsynced), after: () => fsyncFile(objectPath) },
        { name: 'cp', before: removeCopy, run: cp, after: () => fsyncFile(copyPath) },
        {
          name: 'cp + sync',
          before: removeCopy,
          run: async () => {
            await cp();
            await runQuiet('sync', [copyPath]); // `sync FILE` fsyncs just that file
          },
        },
        {
          // The floor for any Node code: the same copy through fs streams, no hash, no fsync.
          name: 'node streams copy',
          before: () => removeQuietly(nodeCopyPath),
          run: () => pipeline(createReadStream(source, { highWaterMark: CHUNK }), createWriteStream(nodeCopyPath, { highWaterMark: CHUNK })),
          after: () => fsyncFile(nodeCopyPath),
        },
      ],
      { runs: ctx.runs },
    );
    const [tLibSync, tLibNoSync, tCp, tCpSync, tNodeCopy] = [libSync, libNoSync, cpOnly, cpSync, nodeCopy].map((r) => throughput(bytes, r!.seconds));

    ctx.report({
      figure: `write ${sizeLabel}`,
      subject: 'library put (fsync + SHA-256)',
      subjectValue: tLibSync!.median,
      anchor: 'cp (no fsync)',
      anchorValue: tCp!.median,
      unit: 'MiB/s',
      ratio: pairedRatio(tLibSync!, tCp!),
      target: { on: 'ratio', op: '>=', value: 0.5 },
      runs: ctx.runs,
      subjectStats: tLibSync,
      anchorStats: tCp,
      note: "issue 2's target: vs plain cp, which leaves the copy in the page cache",
    });
    ctx.report({
      figure: `write ${sizeLabel} (durable anchor)`,
      subject: 'library put (fsync + SHA-256)',
      subjectValue: tLibSync!.median,
      anchor: 'cp + sync of the copy',
      anchorValue: tCpSync!.median,
      unit: 'MiB/s',
      ratio: pairedRatio(tLibSync!, tCpSync!),
      runs: ctx.runs,
      subjectStats: tLibSync,
      anchorStats: tCpSync,
      note: 'like for like: both make the bytes durable before returning',
    });
    ctx.report({
      figure: `write ${sizeLabel} (durability ceiling)`,
      subject: 'cp + sync of the copy',
      subjectValue: tCpSync!.median,
      anchor: 'cp (no fsync)',
      anchorValue: tCp!.median,
      unit: 'MiB/s',
      ratio: pairedRatio(tCpSync!, tCp!),
      runs: ctx.runs,
      subjectStats: tCpSync,
      anchorStats: tCp,
      note: 'what making 100 MiB durable costs on this disk, with no hashing: the most any fsyncing write can reach against plain cp',
    });
    ctx.report({
      figure: `write ${sizeLabel} (fsync off)`,
      subject: 'library put (fsync: false, SHA-256)',
      subjectValue: tLibNoSync!.median,
      anchor: 'cp (no fsync)',
      anchorValue: tCp!.median,
      unit: 'MiB/s',
      ratio: pairedRatio(tLibNoSync!, tCp!),
      runs: ctx.runs,
      subjectStats: tLibNoSync,
      anchorStats: tCp,
      note: 'diagnostic: the library minus its fsync, to split fsync cost from streaming + hashing',
    });
    ctx.report({
      figure: `write ${sizeLabel} (node floor)`,
      subject: 'node fs streams copy (no hash, no fsync)',
      subjectValue: tNodeCopy!.median,
      anchor: 'cp (no fsync)',
      anchorValue: tCp!.median,
      unit: 'MiB/s',
      ratio: pairedRatio(tNodeCopy!, tCp!),
      runs: ctx.runs,
      subjectStats: tNodeCopy,
      anchorStats: tCp,
      note: 'diagnostic: what Node itself reaches; cp copies in the kernel (copy_file_range)',
    });

    // Read: the object the write cases left (written with fsync), by the library and by cat.
    await put(synced)();
    // A read from cache lasts ~10-30 ms, where one preemption is a large error: three times the
    // runs (cheap at this length) keep the median steady.
    const readRuns = ctx.runs * 3;
    ctx.log(`read: ${readRuns} interleaved rounds`);
    let readBytes = 0;
    let keptBytes = 0;
    const [libGet, cat, nodeRead, libGetKept] = await interleave(
      [
        {
          name: 'library get',
          run: async () => {
            readBytes = await drain((await synced.get(KEY)).body, true);
          },
        },
        { name: 'cat > /dev/null', run: () => runQuiet('cat', [objectPath]) },
        { name: 'node read stream', run: () => drain(createReadStream(objectPath, { highWaterMark: CHUNK })) },
        {
          name: 'library get, chunks kept',
          run: async () => {
            keptBytes = await drain((await synced.get(KEY)).body);
          },
        },
      ],
      { runs: readRuns },
    );
    for (const got of [readBytes, keptBytes]) if (got !== bytes) throw new Error(`library get returned ${got} bytes, expected ${bytes}`);
    const [tGet, tCat, tNodeRead, tGetKept] = [libGet, cat, nodeRead, libGetKept].map((r) => throughput(bytes, r!.seconds));
    ctx.report({
      figure: `read ${sizeLabel}`,
      subject: 'library get, drained, chunks released',
      subjectValue: tGet!.median,
      anchor: 'cat > /dev/null',
      anchorValue: tCat!.median,
      unit: 'MiB/s',
      ratio: pairedRatio(tGet!, tCat!),
      target: { on: 'ratio', op: '>=', value: 0.8 },
      runs: readRuns,
      subjectStats: tGet,
      anchorStats: tCat,
      note: 'warm page cache; cat includes starting its process; each chunk handed back once counted (releaseChunk), as the HTTP service does',
    });
    ctx.report({
      figure: `read ${sizeLabel} (chunks kept)`,
      subject: 'library get, drained, no releaseChunk',
      subjectValue: tGetKept!.median,
      anchor: 'cat > /dev/null',
      anchorValue: tCat!.median,
      unit: 'MiB/s',
      ratio: pairedRatio(tGetKept!, tCat!),
      runs: readRuns,
      subjectStats: tGetKept,
      anchorStats: tCat,
      note: 'a reader that keeps its chunks: every read lands in fresh, cache-cold memory',
    });
    ctx.report({
      figure: `read ${sizeLabel} (node floor)`,
      subject: 'node fs read stream, drained',
      subjectValue: tNodeRead!.median,
      anchor: 'cat > /dev/null',
      anchorValue: tCat!.median,
      unit: 'MiB/s',
      ratio: pairedRatio(tNodeRead!, tCat!),
      runs: readRuns,
      subjectStats: tNodeRead,
      anchorStats: tCat,
      note: 'diagnostic: a plain createReadStream of the same file, same chunk size as the library',
    });

    // SHA-256 alone (informational): what hashing costs by itself. Anchor: the openssl CLI (the
    // same SHA-NI code Node's crypto uses), else coreutils' sha256sum (portable C, much slower).
    const openssl = await findCommand('openssl');
    const nativeHasher = openssl
      ? { label: 'openssl dgst -sha256', run: () => runQuiet(openssl, ['dgst', '-sha256', source]) }
      : { label: 'sha256sum', run: () => runQuiet('sha256sum', [source]) };
    ctx.log(`sha256: ${readRuns} interleaved rounds`);
    const [nodeHash, native] = await interleave(
      [
        { name: 'node createHash', run: () => sha256Of(source) },
        { name: nativeHasher.label, run: nativeHasher.run },
      ],
      { runs: readRuns },
    );
    const [tHash, tNative] = [nodeHash, native].map((r) => throughput(bytes, r!.seconds));
    ctx.report({
      figure: `sha256 ${sizeLabel}`,
      subject: 'node crypto SHA-256 over a file stream',
      subjectValue: tHash!.median,
      anchor: nativeHasher.label,
      anchorValue: tNative!.median,
      unit: 'MiB/s',
      ratio: pairedRatio(tHash!, tNative!),
      runs: readRuns,
      subjectStats: tHash,
      anchorStats: tNative,
      note: 'informational: hashing is on the write path, so it caps write throughput',
    });

    // Peak RSS of a fresh process doing put + get of the file, vs plain Node streams doing the same.
    ctx.log(`peak RSS: ${ctx.runs} rounds of 2 child processes`);
    const rssBucket = await freshDir('local-rss-bucket');
    const rssPlain = await freshDir('local-rss-plain');
    const libRss: number[] = [];
    const plainRss: number[] = [];
    for (let round = 0; round < ctx.runs; round++) {
      const pair = [
        async () => libRss.push((await runChild(ioChild, ['library', source, rssBucket])).peakRssBytes / MiB),
        async () => plainRss.push((await runChild(ioChild, ['plain', source, rssPlain])).peakRssBytes / MiB),
      ];
      for (const step of round % 2 === 0 ? pair : pair.reverse()) await step();
    }
    const idle = (await runChild(ioChild, ['idle'])).peakRssBytes / MiB;
    const libRssMedian = median(libRss);
    const plainRssMedian = median(plainRss);
    ctx.report({
      figure: `peak RSS, put+get ${sizeLabel}`,
      subject: 'child process: library put + get',
      subjectValue: libRssMedian,
      anchor: 'child process: plain fs streams, same work',
      anchorValue: plainRssMedian,
      unit: 'MiB',
      target: { on: 'subject', op: '<', value: 150 },
      runs: ctx.runs,
      subjectStats: { median: libRssMedian, min: Math.min(...libRss), max: Math.max(...libRss), samples: libRss },
      anchorStats: { median: plainRssMedian, min: Math.min(...plainRss), max: Math.max(...plainRss), samples: plainRss },
      note: `ru_maxrss of the child; an idle node + tsx process peaks at ${idle.toFixed(1)} MiB`,
    });
  },
});
