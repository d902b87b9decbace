import { accessSync, constants, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ReindexResult } from '../catalog/reindex.js';
import type { Catalog } from '../catalog/types.js';
import { StorageError, isStorageError } from '../core/errors.js';
import { DEFAULT_CONCURRENCY, type TransferReport, transfer } from '../service/transfer.js';
import { backendConfig, openBackend, parseConcurrency, storeIdentity } from './backends.js';
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
  if (flags.reindex && flags.dryRun) throw new StorageError('InvalidArgument', '--reindex changes the target\'s catalog; it cannot go with --dry-run');
  const sourceConfig = backendConfig(flags.from, flags.fromEnv, '--from-env');
  const targetConfig = backendConfig(flags.to, flags.toEnv, '--to-env');
  // Two names for one store: every object would be "identical", and --delete-source would delete them all.
  if (storeIdentity(sourceConfig) === storeIdentity(targetConfig)) {
    throw new StorageError('InvalidArgument', `the source and the target are the same store (${storeIdentity(sourceConfig)})`);
  }
  // The report is written at the end: a path that cannot take it must fail before anything moves.
  const reportPath = resolve(flags.report ?? `${mode}-report-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  try {
    accessSync(dirname(reportPath), constants.W_OK);
  } catch {
    throw new StorageError('InvalidArgument', `--report: cannot write into ${dirname(reportPath)}`);
  }
  const source = { config: sourceConfig, backend: await openBackend(sourceConfig, { mustExist: true, role: 'the source' }) };
  const target = { config: targetConfig, backend: await openBackend(targetConfig, { mustExist: flags.dryRun === true, role: 'the target (a dry run creates nothing)' }) };
  // Loaded only when asked for: the catalog (Kysely, SQLite) is start-up time every run would pay.
  const targetCatalog = flags.reindex ? await import('./target-catalog.js') : undefined;
  const catalog: Catalog | undefined = await targetCatalog?.openTargetCatalog(source.config, target.config);
  const known = source.config.segments.map((s) => s.name);
  const segments = flags.segment?.length ? flags.segment : known;
  for (const s of segments) if (!known.includes(s)) throw new StorageError('InvalidArgument', `--segment: unknown segment "${s}" (known: ${known.join(', ')})`);
  let progress: Progress | undefined;
  let report: TransferReport;
  let reindexed: ReindexResult | undefined;
  let reindexError: string | undefined;
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
    if (catalog && targetCatalog) {
      // A failure here must not lose the copy's report: it is recorded in it, and sets the exit code.
      try {
        reindexed = await targetCatalog.reindexTarget(catalog, target.backend, segments);
      } catch (err) {
        reindexError = isStorageError(err) ? `${err.code}: ${err.message}` : String(err);
        process.exitCode = isStorageError(err, 'BackendUnavailable') ? 3 : 1;
      }
    }
  } finally {
    progress?.finish();
    await Promise.allSettled([source.backend.close(), target.backend.close(), catalog?.close()]);
  }
  const full = { mode, from: flags.from, to: flags.to, segments, dryRun: flags.dryRun === true, ...report, ...(reindexed ? { reindexed } : {}), ...(reindexError ? { reindexError } : {}) };
  writeFileSync(reportPath, `${JSON.stringify(full, null, 2)}\n`);
  if (flags.json) printJson({ ...full, items: undefined, report: reportPath });
  else {
    const t = report.totals;
    const sourceDeleted: Record<string, number> = mode === 'migrate' && flags.deleteSource ? { 'source deleted': t.sourceDeleted } : {};
    console.log(table([{ copied: t.copied, skipped: t.skipped, deleted: t.deleted, ...sourceDeleted, failed: t.failed, 'would copy': t['would-copy'], 'would delete': t['would-delete'], bytes: formatBytes(t.bytesCopied), seconds: Number(report.seconds.toFixed(2)) }]));
    for (const f of report.items.filter((i) => i.action === 'failed').slice(0, 20)) console.error(`failed: ${f.key}: ${f.error}`);
    if (reindexed) console.log(`target catalog: ${reindexed.objects} objects indexed, ${reindexed.removed} stale rows removed`);
    if (reindexError) console.error(`target catalog not rebuilt: ${reindexError}`);
    console.log(`report: ${reportPath}`);
  }
  if (report.totals.failed > 0) process.exitCode = 1;
}

function common(cmd: Command): Command {
  return cmd
    .option('--from-env <file>', 'variables of the source backend (default: environment and .env)')
    .option('--to-env <file>', 'variables of the target backend (default: environment and .env)')
    .option('--segment <name...>', 'only these segments (default: all)')
    .option('--concurrency <n>', 'objects in flight at once (of them at most 4 over 1 MiB)', String(DEFAULT_CONCURRENCY))
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
