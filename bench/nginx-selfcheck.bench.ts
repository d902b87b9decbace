/**
 * Proves the raw-HTTP anchor works before any service benchmark leans on it: nginx's own
 * 100 MiB GET and WebDAV PUT through our Node client (bench/lib/http-client.ts), each beside
 * curl doing the same transfer, and 4 KiB static GETs under wrk. Informational: no targets.
 * A node/curl ratio well below 1 would mean the client, not the server, caps later figures.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SkipBench, defineBench } from './lib/bench.js';
import { findCommand, runQuiet } from './lib/commands.js';
import { fsyncFile, randomFile, removeQuietly } from './lib/files.js';
import { download, uploadFile } from './lib/http-client.js';
import { MiB, type Case, interleave, median, pairedRatio, stats, throughput } from './lib/measure.js';
import { type NginxInstance, nginxMissing, startNginx } from './lib/nginx.js';
import { runWrk, wrkMissing } from './lib/wrk.js';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export default defineBench({
  describe: 'nginx alone (the HTTP anchor): 100 MiB GET/PUT by our client and by curl, 4 KiB under wrk',

  async missing() {
    return (await nginxMissing()) ?? (await wrkMissing());
  },

  async run(ctx) {
    const source = await randomFile();
    const bytes = (await stat(source)).size;
    const sizeLabel = `${bytes / MiB} MiB`;
    const curl = await findCommand('curl');
    if (!curl) ctx.log('curl not installed: the client figures have no anchor');
    let nginx: NginxInstance;
    try {
      nginx = await startNginx();
    } catch (err) {
      throw new SkipBench(`nginx would not start: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      ctx.log(`nginx on ${nginx.url}, root ${nginx.root}`);
      await copyFile(source, join(nginx.root, 'big.bin'));
      await fsyncFile(join(nginx.root, 'big.bin'));
      await writeFile(join(nginx.root, 'small.bin'), randomBytes(4096));

      // GET 100 MiB
      const bigUrl = `${nginx.url}/big.bin`;
      const getCases: Case[] = [
        {
          name: 'node client GET',
          run: async () => {
            const res = await download(bigUrl);
            if (res.bytes !== bytes) throw new Error(`GET returned ${res.bytes} bytes, expected ${bytes}`);
          },
        },
      ];
      if (curl) getCases.push({ name: 'curl GET', run: () => runQuiet(curl, ['-sSf', '-o', '/dev/null', bigUrl]) });
      ctx.log(`GET ${sizeLabel}: ${ctx.runs} interleaved rounds`);
      const [nodeGet, curlGet] = (await interleave(getCases, { runs: ctx.runs })).map((r) => throughput(bytes, r.seconds));
      ctx.report({
        figure: `nginx GET ${sizeLabel}`,
        subject: 'bench client, raw socket (bench/lib/http-client.ts)',
        subjectValue: nodeGet!.median,
        anchor: curlGet ? 'curl -o /dev/null' : null,
        anchorValue: curlGet?.median ?? null,
        unit: 'MiB/s',
        ratio: curlGet ? pairedRatio(nodeGet!, curlGet) : null,
        runs: ctx.runs,
        subjectStats: nodeGet,
        anchorStats: curlGet,
        note: 'nginx static file, sendfile on, warm page cache; client and server share the 2 cores',
      });

      // PUT 100 MiB (WebDAV): each case writes a fresh file, fsynced afterwards (untimed) so no
      // case pays for another's write-back. nginx itself never fsyncs.
      const putPath = join(nginx.root, 'put', 'big.bin');
      const putUrl = `${nginx.url}/put/big.bin`;
      const fresh = () => removeQuietly(putPath);
      const settle = () => fsyncFile(putPath);
      const putCases: Case[] = [{ name: 'bench client PUT', before: fresh, run: () => uploadFile(putUrl, source), after: settle }];
      // `Expect:` empty: curl would otherwise wait for 100-continue before a large body.
      if (curl) putCases.push({ name: 'curl PUT', before: fresh, run: () => runQuiet(curl, ['-sSf', '-H', 'Expect:', '-T', source, putUrl]), after: settle });
      ctx.log(`PUT ${sizeLabel}: ${ctx.runs} interleaved rounds`);
      const [nodePut, curlPut] = (await interleave(putCases, { runs: ctx.runs })).map((r) => throughput(bytes, r.seconds));
      // The anchor must really store the bytes: check one upload end to end.
      fresh();
      await uploadFile(putUrl, source);
      if ((await sha256Of(putPath)) !== (await sha256Of(source))) throw new Error('nginx PUT stored other bytes than were sent');
      ctx.report({
        figure: `nginx PUT ${sizeLabel}`,
        subject: 'bench client, raw socket (bench/lib/http-client.ts)',
        subjectValue: nodePut!.median,
        anchor: curlPut ? 'curl -T' : null,
        anchorValue: curlPut?.median ?? null,
        unit: 'MiB/s',
        ratio: curlPut ? pairedRatio(nodePut!, curlPut) : null,
        runs: ctx.runs,
        subjectStats: nodePut,
        anchorStats: curlPut,
        note: 'WebDAV PUT: body to a temp file, then rename; no checksum, no fsync; stored bytes verified by SHA-256',
      });

      // 4 KiB static GETs: wrk -t2 -c32 -d5s, a few runs (each takes 5 s).
      const wrkRuns = Math.min(ctx.runs, 3);
      ctx.log(`4 KiB: ${wrkRuns} runs of wrk -t2 -c32 -d5s`);
      const rps: number[] = [];
      for (let i = 0; i < wrkRuns; i++) rps.push((await runWrk(`${nginx.url}/small.bin`)).requestsPerSec);
      ctx.report({
        figure: 'nginx GET 4 KiB, 32 connections',
        subject: 'wrk -t2 -c32 -d5s',
        subjectValue: median(rps),
        unit: 'req/s',
        runs: wrkRuns,
        subjectStats: stats(rps),
        note: 'the anchor later service figures divide by; wrk and nginx share the 2 cores',
      });
    } finally {
      await nginx.stop();
    }
  },
});
