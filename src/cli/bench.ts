import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { BACKEND_KINDS, type BackendKind, loadConfig } from '../config/index.js';
import type { Backend } from '../core/backend.js';
import { StorageError } from '../core/errors.js';
import { KeyRules } from '../core/keys.js';
import { createBackend } from '../service/backend-factory.js';
import { configuredBackends } from './diagnose.js';
import { printJson, table } from './output.js';

/** The guide's benchmark_storage_performance.py: throughput and small-object rates per backend. */
interface BenchRow {
  backend: BackendKind;
  uploadMiBps: number;
  downloadMiBps: number;
  smallPutsPerSec: number;
  smallGetsPerSec: number;
  deletesPerSec: number;
}

/** A body of `bytes` made of one random block repeated: cheap to generate, streamed, never held whole. */
function body(bytes: number): Readable {
  const block = randomBytes(Math.min(bytes, 1 << 20));
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, block.length);
      left -= n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
}

const round = (n: number) => Math.round(n * 10) / 10;

async function measure(backend: Backend, segment: string, sizeMiB: number, smallCount: number): Promise<Omit<BenchRow, 'backend'>> {
  const prefix = `${segment}/bucketgate-bench-${Date.now()}`;
  const bytes = sizeMiB * 1024 * 1024;
  let t = performance.now();
  await backend.put(`${prefix}/large.bin`, body(bytes), { contentLength: bytes, contentType: 'application/octet-stream' });
  const upload = (performance.now() - t) / 1000;
  t = performance.now();
  const { body: stream } = await backend.get(`${prefix}/large.bin`);
  for await (const _ of stream) void _;
  const download = (performance.now() - t) / 1000;
  const small = Array.from({ length: smallCount }, (_, i) => `${prefix}/small-${i}.bin`);
  const data = randomBytes(4096);
  const rate = async (work: (key: string) => Promise<unknown>) => {
    const started = performance.now();
    for (let i = 0; i < small.length; i += 8) await Promise.all(small.slice(i, i + 8).map(work));
    return small.length / ((performance.now() - started) / 1000);
  };
  const puts = await rate((key) => backend.put(key, Readable.from([data]), { contentLength: data.length }));
  const gets = await rate(async (key) => {
    for await (const _ of (await backend.get(key)).body) void _;
  });
  const deletes = await rate((key) => backend.delete(key));
  await backend.delete(`${prefix}/large.bin`);
  return { uploadMiBps: round(sizeMiB / upload), downloadMiBps: round(sizeMiB / download), smallPutsPerSec: round(puts), smallGetsPerSec: round(gets), deletesPerSec: round(deletes) };
}

export function registerBench(program: Command) {
  program
    .command('bench')
    .description('Upload/download throughput and 4 KiB operations per second for each configured backend')
    .option('--backend <name...>', 'local | s3 | minio | supabase (default: every configured backend)')
    .option('--size <MiB>', 'size of the large object', '64')
    .option('--small <n>', 'number of 4 KiB objects', '200')
    .option('--json', 'print JSON')
    .action(async (opts: { backend?: string[]; size: string; small: string; json?: boolean }) => {
      const config = loadConfig();
      const size = Number(opts.size);
      const small = Number(opts.small);
      if (!Number.isInteger(size) || size < 1 || size > 10240) throw new StorageError('InvalidArgument', '--size must be whole MiB from 1 to 10240');
      if (!Number.isInteger(small) || small < 1 || small > 100_000) throw new StorageError('InvalidArgument', '--small must be from 1 to 100000');
      const kinds = (opts.backend ?? configuredBackends(config)) as BackendKind[];
      for (const k of kinds) if (!(BACKEND_KINDS as readonly string[]).includes(k)) throw new StorageError('InvalidArgument', `--backend must be among ${BACKEND_KINDS.join(', ')}`);
      const rows: BenchRow[] = [];
      for (const kind of kinds) {
        const scoped = { ...config, backend: kind };
        const keys = new KeyRules(config.segments.map((s) => s.name));
        const backend = await createBackend(scoped, keys);
        try {
          rows.push({ backend: kind, ...(await measure(backend, keys.segments[0]!, size, small)) });
        } finally {
          await backend.close();
        }
      }
      if (opts.json) printJson(rows);
      else console.log(table(rows as unknown as Record<string, string | number>[]));
    });
}
