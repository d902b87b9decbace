/**
 * Issue 3: the HTTP service (local-disk backend) against nginx serving and accepting the
 * same file, in the same run. The service runs as its own process (`bucketgate serve`, see
 * children/service-process.ts); both are driven by the same client (lib/http-client.ts) and,
 * for small files, by the same wrk.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SkipBench, defineBench } from './lib/bench.js';
import { freshDir, fsyncFile, randomFile, removeQuietly } from './lib/files.js';
import { CpuTally } from './lib/cpu.js';
import { download, uploadFile } from './lib/http-client.js';
import { MiB, interleave, median, pairedRatio, stats, throughput } from './lib/measure.js';
import { type NginxInstance, nginxMissing, startNginx } from './lib/nginx.js';
import { runWrk, wrkMissing } from './lib/wrk.js';
import { type ServiceProcess, serviceCli, serviceDownload, startNodeFloor, startServiceProcess } from './children/service-process.js';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** CPU (ms, median of 5) that SHA-256 of `bytes` takes on one core: 1 MiB updates from memory. */
function sha256CpuMs(bytes: number): number {
  const block = randomBytes(MiB);
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = process.cpuUsage();
    const hash = createHash('sha256');
    for (let done = 0; done < bytes; done += MiB) hash.update(bytes - done >= MiB ? block : block.subarray(0, bytes - done));
    hash.digest();
    const used = process.cpuUsage(before);
    runs.push((used.user + used.system) / 1000);
  }
  return median(runs);
}

const WRK_DURATION = '5s';
const CLIENTS = 8;

export default defineBench({
  describe: 'HTTP service (local disk) vs nginx: 100 MiB download/upload, 4 KiB at 32 connections, peak RSS with 8 uploads at once',

  async missing() {
    return (await nginxMissing()) ?? (await wrkMissing());
  },

  async run(ctx) {
    const source = await randomFile();
    const bytes = (await stat(source)).size;
    const sizeLabel = `${bytes / MiB} MiB`;
    const sourceSha = await sha256Of(source);
    const cli = await serviceCli(ctx.log);
    let nginx: NginxInstance;
    try {
      nginx = await startNginx();
    } catch (err) {
      throw new SkipBench(`nginx would not start: ${err instanceof Error ? err.message : String(err)}`);
    }
    let svc: ServiceProcess | undefined;
    let svc2: ServiceProcess | undefined;
    let floor: Awaited<ReturnType<typeof startNodeFloor>> | undefined;
    try {
      svc = await startServiceProcess({ name: 'http', log: ctx.log });
      // Diagnostic third party: a bare node:http server over the same files (children/node-floor-server.mjs).
      const floorRoot = await freshDir('http-node-floor');
      floor = await startNodeFloor(floorRoot);
      const nodeFloor = floor;
      ctx.log(`nginx on ${nginx.url}; service (${cli.label}, pid ${svc.pid}) on ${svc.url}`);
      const service = svc;

      // The same 100 MiB file on both sides, warm in the page cache.
      await copyFile(source, join(nginx.root, 'big.bin'));
      await fsyncFile(join(nginx.root, 'big.bin'));
      await copyFile(source, join(floorRoot, 'big.bin'));
      await fsyncFile(join(floorRoot, 'big.bin'));
      const big = await service.upload(source, 'big.bin');
      if (big.sha256 !== undefined && big.sha256 !== sourceSha) throw new Error('the service stored other bytes than were sent');
      const small = randomBytes(4096);
      const smallPath = join(await freshDir('http-small'), 'small.bin');
      await writeFile(smallPath, small);
      await writeFile(join(nginx.root, 'small.bin'), small);
      await writeFile(join(floorRoot, 'small.bin'), small);
      const smallObject = await service.upload(smallPath, 'small.bin');

      // Download 100 MiB
      ctx.log(`download ${sizeLabel}: ${ctx.runs} interleaved rounds`);
      const [svcGet, nginxGet, floorGet] = (
        await interleave(
          [
            { name: 'service GET /cdn/download', run: () => serviceDownload(service, big.id, bytes) },
            {
              name: 'nginx static GET',
              run: async () => {
                const res = await download(`${nginx.url}/big.bin`);
                if (res.bytes !== bytes) throw new Error(`nginx GET returned ${res.bytes} bytes`);
              },
            },
            {
              name: 'node floor GET',
              run: async () => {
                const res = await download(`${nodeFloor.url}/big.bin`);
                if (res.bytes !== bytes) throw new Error(`node floor GET returned ${res.bytes} bytes`);
              },
            },
          ],
          { runs: ctx.runs },
        )
      ).map((r) => throughput(bytes, r.seconds));
      ctx.report({
        figure: `download ${sizeLabel}`,
        subject: 'service GET /cdn/download/{id} (bearer)',
        subjectValue: svcGet!.median,
        anchor: 'nginx static GET (sendfile)',
        anchorValue: nginxGet!.median,
        unit: 'MiB/s',
        ratio: pairedRatio(svcGet!, nginxGet!),
        target: { on: 'ratio', op: '>=', value: 0.8 },
        runs: ctx.runs,
        subjectStats: svcGet,
        anchorStats: nginxGet,
        note: 'warm page cache, same client; the service authenticates, looks the id up in the catalog, then streams the file',
      });
      ctx.report({
        figure: `download ${sizeLabel} (node floor)`,
        subject: 'bare node:http + fs read stream (1 MiB reads)',
        subjectValue: floorGet!.median,
        anchor: 'nginx static GET (sendfile)',
        anchorValue: nginxGet!.median,
        unit: 'MiB/s',
        ratio: pairedRatio(floorGet!, nginxGet!),
        runs: ctx.runs,
        subjectStats: floorGet,
        anchorStats: nginxGet,
        note: 'diagnostic: the most a Node server reaches here (no sendfile: every byte is read into memory and written to the socket)',
      });

      // Upload 100 MiB: the upload URL is asked for untimed (nginx has no such step); the service
      // hashes (SHA-256) and fsyncs before answering 201, nginx does neither — its copy is
      // fsynced afterwards, untimed, so no case pays for another's write-back.
      const putPath = join(nginx.root, 'put', 'big.bin');
      let target = '';
      let lastId: string | undefined;
      let round = 0;
      ctx.log(`upload ${sizeLabel}: ${ctx.runs} interleaved rounds`);
      const cpu = { service: new CpuTally(service.pid), nginx: new CpuTally(nginx.pid), floor: new CpuTally(nodeFloor.pid) };
      const [svcPut, nginxPut, nginxDurablePut, floorPut] = (
        await interleave(
          [
            cpu.service.track({
              name: 'service POST /cdn/upload/{token}',
              before: async () => {
                if (lastId) await service.remove(lastId);
                target = await service.uploadUrl(`up-${round++}.bin`, bytes);
              },
              run: async () => {
                const res = await uploadFile(target, source, { method: 'POST', expect: (s) => s === 201 });
                lastId = (JSON.parse(res.text) as { id: string }).id;
              },
            }),
            cpu.nginx.track({
              name: 'nginx WebDAV PUT',
              before: () => removeQuietly(putPath),
              run: () => uploadFile(`${nginx.url}/put/big.bin`, source),
              after: () => fsyncFile(putPath),
            }),
            {
              name: 'nginx WebDAV PUT + fsync',
              before: () => removeQuietly(putPath),
              run: async () => {
                await uploadFile(`${nginx.url}/put/big.bin`, source);
                await fsyncFile(putPath);
              },
            },
            cpu.floor.track({
              name: 'node floor PUT',
              before: () => removeQuietly(join(floorRoot, 'put.bin')),
              run: () => uploadFile(`${nodeFloor.url}/put.bin`, source),
              after: () => fsyncFile(join(floorRoot, 'put.bin')),
            }),
          ],
          { runs: ctx.runs },
        )
      ).map((r) => throughput(bytes, r.seconds));
      if (lastId) await service.remove(lastId);
      ctx.report({
        figure: `upload ${sizeLabel}`,
        subject: 'service POST /cdn/upload/{token} (SHA-256 + fsync)',
        subjectValue: svcPut!.median,
        anchor: 'nginx WebDAV PUT (no checksum, no fsync)',
        anchorValue: nginxPut!.median,
        unit: 'MiB/s',
        ratio: pairedRatio(svcPut!, nginxPut!),
        target: { on: 'ratio', op: '>=', value: 0.5 },
        runs: ctx.runs,
        subjectStats: svcPut,
        anchorStats: nginxPut,
        note: 'raw body; upload URL asked for before the clock starts; nginx copy fsynced after its clock stops',
      });
      ctx.report({
        figure: `upload ${sizeLabel} (durability ceiling)`,
        subject: 'nginx WebDAV PUT, then fsync of its copy (timed together)',
        subjectValue: nginxDurablePut!.median,
        anchor: 'nginx WebDAV PUT (no checksum, no fsync)',
        anchorValue: nginxPut!.median,
        unit: 'MiB/s',
        ratio: pairedRatio(nginxDurablePut!, nginxPut!),
        runs: ctx.runs,
        subjectStats: nginxDurablePut,
        anchorStats: nginxPut,
        note: 'diagnostic: nginx itself made durable as the service is (no checksum): what the flush alone costs against the anchor',
      });
      ctx.report({
        figure: `upload ${sizeLabel} (node floor)`,
        subject: 'bare node:http PUT into a file (no checksum, no fsync)',
        subjectValue: floorPut!.median,
        anchor: 'nginx WebDAV PUT (no checksum, no fsync)',
        anchorValue: nginxPut!.median,
        unit: 'MiB/s',
        ratio: pairedRatio(floorPut!, nginxPut!),
        runs: ctx.runs,
        subjectStats: floorPut,
        anchorStats: nginxPut,
        note: 'diagnostic: the same work as nginx, in Node; its copy fsynced after its clock stops, as nginx\'s',
      });
      // Where the time goes on 2 cores: CPU per upload of each server (all its threads and
      // processes) and of the client, which shares the cores with it.
      const ms = (values: number[]) => Math.round(median(values));
      ctx.report({
        figure: `upload ${sizeLabel}: server CPU`,
        subject: 'service, all threads (ms of CPU per upload)',
        subjectValue: ms(cpu.service.server),
        anchor: 'nginx, all processes',
        anchorValue: ms(cpu.nginx.server),
        unit: 'ms CPU',
        ratio: median(cpu.service.server) / median(cpu.nginx.server),
        runs: ctx.runs,
        subjectStats: stats(cpu.service.server),
        anchorStats: stats(cpu.nginx.server),
        note: `info; node floor ${ms(cpu.floor.server)} ms; client ${ms(cpu.service.client)} ms sending to the service, ${ms(cpu.nginx.client)} ms to nginx`,
      });
      // Whether the target fits on two cores at all: in twice nginx's time they give 4 × that
      // much CPU; the client, the least a node:http server does (the floor) and the SHA-256 the
      // service owes must fit in it, even if nothing else cost a thing and all ran in parallel.
      const shaMs = sha256CpuMs(bytes);
      const neededMs = median(cpu.service.client) + median(cpu.floor.server) + shaMs;
      const availableMs = 4 * median(nginxPut!.samples.map((mibs) => (bytes / MiB / mibs) * 1000));
      ctx.report({
        figure: `upload ${sizeLabel}: CPU the 0.5× target leaves`,
        subject: 'client + node floor + SHA-256 (ms of CPU per upload)',
        subjectValue: Math.round(neededMs),
        anchor: "what 2 cores give in twice nginx's upload time",
        anchorValue: Math.round(availableMs),
        unit: 'ms CPU',
        ratio: neededMs / availableMs,
        runs: ctx.runs,
        note: `info; above 1: no node:http server that hashes can reach 0.5× here; client ${ms(cpu.service.client)}, floor ${ms(cpu.floor.server)}, SHA-256 of ${sizeLabel} ${Math.round(shaMs)} ms (one core)`,
      });

      // 4 KiB downloads, 32 connections: wrk against each, alternating, a few 5 s runs.
      const wrkRuns = Math.min(ctx.runs, 5);
      ctx.log(`4 KiB: ${wrkRuns} rotating rounds of wrk -t2 -c32 -d${WRK_DURATION} (service, service with 2 workers, nginx, node floor, node from memory)`);
      // nginx runs 2 worker processes (lib/nginx.ts); so does this service, for a like-for-like figure.
      svc2 = await startServiceProcess({ name: 'http-2-workers', log: ctx.log, env: { BHIV_WORKERS: '2' } });
      const service2 = svc2;
      const smallObject2 = await service2.upload(smallPath, 'small.bin');
      for (const target of [service, service2]) {
        await runWrk(`${target.url}/cdn/download/${target === service ? smallObject.id : smallObject2.id}`, { duration: '1s', headers: target.authHeader }); // warm-up
      }
      const svcRps: number[] = [];
      const svc2Rps: number[] = [];
      const nginxRps: number[] = [];
      const floorRps: number[] = [];
      const memoryRps: number[] = [];
      for (let i = 0; i < wrkRuns; i++) {
        const steps = [
          async () => svcRps.push((await runWrk(`${service.url}/cdn/download/${smallObject.id}`, { duration: WRK_DURATION, headers: service.authHeader })).requestsPerSec),
          async () => svc2Rps.push((await runWrk(`${service2.url}/cdn/download/${smallObject2.id}`, { duration: WRK_DURATION, headers: service2.authHeader })).requestsPerSec),
          async () => nginxRps.push((await runWrk(`${nginx.url}/small.bin`, { duration: WRK_DURATION })).requestsPerSec),
          async () => floorRps.push((await runWrk(`${nodeFloor.url}/small.bin`, { duration: WRK_DURATION })).requestsPerSec),
          async () => memoryRps.push((await runWrk(`${nodeFloor.url}/mem/small.bin`, { duration: WRK_DURATION })).requestsPerSec),
        ];
        for (let k = 0; k < steps.length; k++) await steps[(k + i) % steps.length]!();
      }
      const svcRpsStats = stats(svcRps);
      const svc2RpsStats = stats(svc2Rps);
      const nginxRpsStats = stats(nginxRps);
      ctx.report({
        figure: '4 KiB download, 32 connections',
        subject: 'service, 2 workers (BHIV_WORKERS=2), GET /cdn/download/{id} (bearer), wrk',
        subjectValue: svc2RpsStats.median,
        anchor: 'nginx static GET (2 worker processes), wrk',
        anchorValue: nginxRpsStats.median,
        unit: 'req/s',
        ratio: pairedRatio(svc2RpsStats, nginxRpsStats),
        target: { on: 'ratio', op: '>=', value: 0.25 },
        runs: wrkRuns,
        subjectStats: svc2RpsStats,
        anchorStats: nginxRpsStats,
        note: `wrk -t2 -c32 -d${WRK_DURATION}, keep-alive; as many processes as nginx; every service request verifies the JWT and reads the catalog; the 4 KiB body comes from memory after the first read (BHIV_SMALL_OBJECT_CACHE_MB)`,
      });
      ctx.report({
        figure: '4 KiB download, 32 connections (1 process)',
        subject: 'service, one process (the default), wrk',
        subjectValue: svcRpsStats.median,
        anchor: 'nginx static GET (2 worker processes), wrk',
        anchorValue: nginxRpsStats.median,
        unit: 'req/s',
        ratio: pairedRatio(svcRpsStats, nginxRpsStats),
        runs: wrkRuns,
        subjectStats: svcRpsStats,
        anchorStats: nginxRpsStats,
        note: 'the same with the default single process: one core serving against nginx on two',
      });
      const floorRpsStats = stats(floorRps);
      ctx.report({
        figure: '4 KiB download, 32 connections (node floor)',
        subject: 'bare node:http + fs read stream, wrk',
        subjectValue: floorRpsStats.median,
        anchor: 'nginx static GET, wrk',
        anchorValue: nginxRpsStats.median,
        unit: 'req/s',
        ratio: pairedRatio(floorRpsStats, nginxRpsStats),
        runs: wrkRuns,
        subjectStats: floorRpsStats,
        anchorStats: nginxRpsStats,
        note: 'diagnostic: one Node process opening and streaming the file per request, nothing else',
      });
      const memoryRpsStats = stats(memoryRps);
      ctx.report({
        figure: '4 KiB download, 32 connections (node from memory)',
        subject: 'bare node:http answering from memory, wrk',
        subjectValue: memoryRpsStats.median,
        anchor: 'nginx static GET, wrk',
        anchorValue: nginxRpsStats.median,
        unit: 'req/s',
        ratio: pairedRatio(memoryRpsStats, nginxRpsStats),
        runs: wrkRuns,
        subjectStats: memoryRpsStats,
        anchorStats: nginxRpsStats,
        note: 'diagnostic: the ceiling of node:http on this machine, no file system, framework, auth or catalog',
      });
    } finally {
      await floor?.stop();
      await svc2?.stop();
      await svc?.stop();
      await nginx.stop();
    }

    // Peak RSS while 8 clients each upload the 100 MiB file at once. A fresh service per round,
    // warmed by one small upload and download, left to settle (V8 shrinks an idle heap ~10 s
    // after start-up), then its peak is reset: the figure is the workload's peak, not start-up's.
    const rssRuns = Math.min(ctx.runs, 5);
    ctx.log(`peak RSS: ${rssRuns} rounds of a fresh service with ${CLIENTS} concurrent ${sizeLabel} uploads`);
    const smallDir = await freshDir('http-rss-small');
    const warmPath = join(smallDir, 'warm.bin');
    await writeFile(warmPath, randomBytes(4096));
    const peaks: number[] = [];
    const settled: number[] = [];
    const lifetime: number[] = [];
    for (let round = 0; round < rssRuns; round++) {
      const rssSvc = await startServiceProcess({ name: `http-rss-${round}`, log: ctx.log });
      try {
        const warm = await rssSvc.upload(warmPath, 'warm.bin');
        await serviceDownload(rssSvc, warm.id, 4096);
        settled.push((await rssSvc.settle()) / MiB);
        lifetime.push((await rssSvc.memory()).peak / MiB);
        const urls = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => rssSvc.uploadUrl(`rss-${i}.bin`, bytes)));
        await rssSvc.resetPeak();
        const results = await Promise.all(urls.map((u) => uploadFile(u, source, { method: 'POST', expect: (s) => s === 201 })));
        peaks.push((await rssSvc.memory()).peak / MiB);
        for (const r of results) {
          const stored = JSON.parse(r.text) as { sha256?: string; size: number };
          if (stored.size !== bytes || (stored.sha256 !== undefined && stored.sha256 !== sourceSha)) throw new Error('a concurrent upload stored other bytes');
        }
      } finally {
        await rssSvc.stop();
        removeQuietly(rssSvc.bucketPath);
      }
    }
    const peakStats = stats(peaks);
    ctx.report({
      figure: `peak RSS, ${CLIENTS} x ${sizeLabel} uploads at once`,
      subject: `service process (${cli.label}), highest of ${rssRuns} rounds`,
      subjectValue: peakStats.max,
      unit: 'MiB',
      target: { on: 'subject', op: '<', value: 200 },
      runs: rssRuns,
      subjectStats: peakStats,
      note: `VmHWM of the service during the uploads (reset once it had settled); median ${median(peaks).toFixed(1)} MiB; settled idle RSS before them ${median(settled).toFixed(1)} MiB; start-up peak ${median(lifetime).toFixed(1)} MiB`,
    });
  },
});
