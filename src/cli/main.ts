#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Command } from 'commander';
import { isStorageError } from '../core/errors.js';

/** Exit codes: 0 ok, 1 operation failed, 2 bad usage or configuration, 3 backend unreachable. */
export function exitCodeOf(err: unknown): number {
  if (!isStorageError(err)) return 1;
  if (err.code === 'ConfigInvalid' || err.code === 'InvalidArgument' || err.code === 'InvalidKey') return 2;
  if (err.code === 'BackendUnavailable') return 3;
  return 1;
}

type Register = (program: Command) => void;

/**
 * Each command's module is loaded only when that command runs: `migrate` does not load the
 * HTTP server, nor `serve` the migration code (start-up of `migrate` ~0.45 s → ~0.25 s here,
 * paid on every run). Without a known command first (help, --version, a typo) all are
 * registered, in this order.
 */
const COMMANDS: [names: string[], load: () => Promise<Register>][] = [
  [['serve'], async () => (await import('./serve.js')).registerServe],
  [['token'], async () => (await import('./token.js')).registerToken],
  [['reindex'], async () => (await import('./reindex.js')).registerReindex],
  [['ls', 'cat', 'cp', 'rm', 'stats'], async () => (await import('./objects.js')).registerObjectCommands],
  [['migrate', 'sync'], async () => (await import('./transfer.js')).registerTransfer],
  [['cleanup'], async () => (await import('./cleanup.js')).registerCleanup],
  [['setup'], async () => (await import('./setup.js')).registerSetup],
  [['test-connection', 'doctor'], async () => (await import('./doctor.js')).registerDoctor],
  [['bench'], async () => (await import('./bench.js')).registerBench],
];

/**
 * V8 starts optimising a function after it has run this much bytecode: 4× its default, for
 * every command but `serve`. A CLI run is short: at the default, V8's optimising compiler
 * spent ~0.4 s of CPU on background threads during a 2 s `migrate` of 1,000 small files,
 * CPU taken from the store on the same machine. Hot loops of a long run are still optimised,
 * only later (migrate of 1,000 × 64 KiB to MinIO: process CPU 1.5 → 1.2 s). A budget given
 * to node by the user (`--interrupt-budget`, also in NODE_OPTIONS) is left as it is.
 */
const SHORT_RUN_INTERRUPT_BUDGET = 4 * 67_584;

/** As service/storage.ts reads it, without loading the service. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function main(): Promise<void> {
  const program = new Command('bucketgate')
    .version(VERSION)
    .description('One storage layer over local disk, Supabase Storage, AWS S3 and MinIO')
    .showHelpAfterError()
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  const asked = process.argv[2];
  const ownBudget = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--interrupt-budget'));
  if (asked !== 'serve' && !ownBudget) setFlagsFromString(`--interrupt-budget=${SHORT_RUN_INTERRUPT_BUDGET}`);
  const chosen = COMMANDS.filter(([names]) => asked !== undefined && names.includes(asked));
  for (const [, load] of chosen.length > 0 ? chosen : COMMANDS) (await load())(program);
  await program.parseAsync(process.argv);
}

// Whoever reads our standard output may stop early (`bucketgate cat … | head`): that ends the
// output, it is no failure of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main().catch((err: unknown) => {
  if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') process.exit(0);
  const message = isStorageError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  console.error(`bucketgate: ${message}`);
  process.exit(exitCodeOf(err));
});
