#!/usr/bin/env node
import { Command } from 'commander';
import { isStorageError } from '../core/errors.js';
import { VERSION } from '../service/storage.js';
import { registerBench } from './bench.js';
import { registerCleanup } from './cleanup.js';
import { registerDoctor } from './doctor.js';
import { registerObjectCommands } from './objects.js';
import { registerReindex } from './reindex.js';
import { registerServe } from './serve.js';
import { registerSetup } from './setup.js';
import { registerToken } from './token.js';
import { registerTransfer } from './transfer.js';

/** Exit codes: 0 ok, 1 operation failed, 2 bad usage or configuration, 3 backend unreachable. */
export function exitCodeOf(err: unknown): number {
  if (!isStorageError(err)) return 1;
  if (err.code === 'ConfigInvalid' || err.code === 'InvalidArgument') return 2;
  if (err.code === 'BackendUnavailable') return 3;
  return 1;
}

const program = new Command('bucketgate')
  .version(VERSION)
  .description('One storage layer over local disk, Supabase Storage, AWS S3 and MinIO')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
registerServe(program);
registerToken(program);
registerReindex(program);
registerObjectCommands(program);
registerTransfer(program);
registerCleanup(program);
registerSetup(program);
registerDoctor(program);
registerBench(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = isStorageError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  console.error(`bucketgate: ${message}`);
  process.exit(exitCodeOf(err));
});
