import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { openCatalog, parseCatalogUrl } from '../catalog/index.js';
import { type ReindexResult, reindex } from '../catalog/reindex.js';
import type { Config } from '../config/index.js';
import type { Backend } from '../core/backend.js';
import { StorageError } from '../core/errors.js';
import { type TransferReport, transfer } from '../service/transfer.js';
import { openBackend, parseConcurrency } from './backends.js';
import { Progress, formatBytes, printJson, table } from './output.js';

interface TransferFlags {
  from: string;
  to: string;
  fromEnv?: string;
  toEnv?: string;
  segment?: string[];
  concurrency: string;
  dryRun?: boolean;
  verify?: boolean;
  deleteSource?: boolean;
  delete?: boolean;
  report?: string;
  json?: boolean;
  reindex?: boolean;
}

async function run(mode: 'migrate' | 'sync', flags: TransferFlags) {
  if (flags.from === flags.to && flags.fromEnv === flags.toEnv) throw new StorageError('InvalidArgument', '--from and --to name the same backend; give --to-env for a second configuration');
  const source = await openBackend(flags.from, flags.fromEnv, '--from-env');
  const target = await openBackend(flags.to, flags.toEnv, '--to-env');
  if (flags.reindex && sameCatalog(source.config, target.config)) {
    throw new StorageError('InvalidArgument', '--reindex: the source and the target share one catalog, which already indexes these objects (with their ids); nothing to rebuild');
  }
  const known = source.config.segments.map((s) => s.name);
  const segments = flags.segment?.length ? flags.segment : known;
  for (const s of segments) if (!known.includes(s)) throw new StorageError('InvalidArgument', `--segment: unknown segment "${s}" (known: ${known.join(', ')})`);
  let progress: Progress | undefined;
  let report: TransferReport;
  let reindexed: ReindexResult | undefined;
  try {
    report = await transfer(source.backend, target.backend, {
      segments,
      concurrency: parseConcurrency(flags.concurrency),
      dryRun: flags.dryRun,
      verify: flags.verify,
      deleteSource: mode === 'migrate' && flags.deleteSource,
      deleteExtraneous: mode === 'sync' && flags.delete,
      onProgress: (p) => {
        progress ??= new Progress(mode, p.totalBytes, p.totalItems, !flags.json && process.stderr.isTTY === true);
        progress.update(p.doneBytes, p.doneItems);
      },
    });
    progress?.finish();
    progress = undefined;
    if (flags.reindex && !flags.dryRun) reindexed = await reindexTarget(target, segments);
  } finally {
    progress?.finish();
    await Promise.allSettled([source.backend.close(), target.backend.close()]);
  }
  const reportPath = flags.report ?? `${mode}-report-${report.startedAt.replace(/[:.]/g, '-')}.json`;
  const full = { mode, from: flags.from, to: flags.to, segments, dryRun: flags.dryRun === true, ...report, ...(reindexed ? { reindexed } : {}) };
  writeFileSync(reportPath, `${JSON.stringify(full, null, 2)}\n`);
  if (flags.json) printJson({ ...full, items: undefined, report: reportPath });
  else {
    const t = report.totals;
    console.log(table([{ copied: t.copied, skipped: t.skipped, deleted: t.deleted, failed: t.failed, 'would copy': t['would-copy'], 'would delete': t['would-delete'], bytes: formatBytes(t.bytesCopied), seconds: Number(report.seconds.toFixed(2)) }]));
    for (const f of report.items.filter((i) => i.action === 'failed').slice(0, 20)) console.error(`failed: ${f.key}: ${f.error}`);
    if (reindexed) console.log(`target catalog: ${reindexed.objects} objects indexed, ${reindexed.removed} stale rows removed`);
    console.log(`report: ${reportPath}`);
  }
  if (report.totals.failed > 0) process.exitCode = 1;
}

function sameCatalog(a: Config, b: Config): boolean {
  const where = (c: Config) => {
    const target = parseCatalogUrl(c.databaseUrl);
    return target.dialect === 'postgres' ? target.url : resolve(target.path);
  };
  return where(a) === where(b);
}

/**
 * The catalog is the service's index, kept apart from the bytes (DESIGN §3): copying objects
 * does not touch it. `--reindex` brings the catalog the target's variables name (DATABASE_URL,
 * else the SQLite file in its BHIV_BUCKET_PATH) in line with the target, as `bucketgate
 * reindex` run with them would; known keys keep their ids.
 */
async function reindexTarget(target: { backend: Backend; config: Config }, segments: string[]): Promise<ReindexResult> {
  const catalog = await openCatalog(target.config.databaseUrl);
  try {
    return await reindex(catalog, target.backend, { segments });
  } finally {
    await catalog.close();
  }
}

function common(cmd: Command): Command {
  return cmd
    .option('--from-env <file>', 'variables of the source backend (default: environment and .env)')
    .option('--to-env <file>', 'variables of the target backend (default: environment and .env)')
    .option('--segment <name...>', 'only these segments (default: all)')
    .option('--concurrency <n>', 'objects in flight at once', '8')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--verify', 'read every copied object back and compare its SHA-256')
    .option('--report <file>', 'where to write the JSON report')
    .option('--reindex', "afterwards, rebuild the target's catalog (as `bucketgate reindex` with the target's variables)")
    .option('--json', 'print a JSON summary');
}

export function registerTransfer(program: Command) {
  common(
    program
      .command('migrate')
      .description('Copy every object from one backend to another (the guide\'s export/import scripts); resumable')
      .requiredOption('--from <backend>', 'local | s3 | minio | supabase')
      .requiredOption('--to <backend>', 'local | s3 | minio | supabase')
      .option('--delete-source', 'delete each source object once it is safely copied'),
  ).action((flags: TransferFlags) => run('migrate', flags));

  common(
    program
      .command('sync')
      .description('One-way mirror (the guide\'s sync_local_to_cloud.py): only changes move')
      .option('--from <backend>', 'source backend', 'local')
      .requiredOption('--to <backend>', 's3 | minio | supabase | local')
      .option('--delete', 'delete target objects the source does not have'),
  ).action((flags: TransferFlags) => run('sync', flags));
}
