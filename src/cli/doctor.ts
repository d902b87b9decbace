import type { Command } from 'commander';
import { BACKEND_KINDS, type BackendKind, loadConfig } from '../config/index.js';
import { StorageError } from '../core/errors.js';
import { openCatalog } from '../catalog/index.js';
import { configuredBackends, diagnose, type Diagnosis } from './diagnose.js';
import { printJson } from './output.js';

function show(d: Diagnosis) {
  console.log(`${d.ok ? 'OK  ' : 'FAIL'} ${d.backend}: ${d.message}`);
  for (const c of d.checks) console.log(`     ${c.ok ? '✓' : '✗'} ${c.name}${c.ms !== undefined ? ` (${c.ms} ms)` : ''}: ${c.detail}`);
}

function backendsFrom(flag: string | undefined, fallback: () => BackendKind[]): BackendKind[] {
  if (flag === undefined || flag === 'all') return fallback();
  if (!(BACKEND_KINDS as readonly string[]).includes(flag)) throw new StorageError('InvalidArgument', `--backend must be one of ${BACKEND_KINDS.join(', ')} or all`);
  return [flag as BackendKind];
}

/** Exit 0 when every check passed, 3 when a backend failed its checks. */
async function run(kinds: BackendKind[], json: boolean | undefined, extra?: Record<string, unknown>) {
  const config = loadConfig();
  const results: Diagnosis[] = [];
  for (const kind of kinds) {
    try {
      results.push(await diagnose(kind, config));
    } catch (err) {
      // Configuration mistakes are usage errors (exit 2), not an unreachable backend.
      if (err instanceof StorageError && err.code === 'ConfigInvalid' && kinds.length === 1) throw err;
      const message = err instanceof StorageError ? `${err.code}: ${err.message}` : String(err);
      results.push({ backend: kind, ok: false, message: `cannot check ${kind}: ${message}`, checks: [] });
    }
  }
  const ok = results.every((r) => r.ok);
  if (json) printJson({ ok, ...extra, backends: results });
  else results.forEach(show);
  if (!ok) process.exitCode = 3;
}

export function registerDoctor(program: Command) {
  program
    .command('test-connection')
    .description('Reach, authenticate, find the bucket, write/read/delete a probe (the guide\'s test_*_connection.py)')
    .option('--backend <name>', 'local | s3 | minio | supabase | all (default: the configured one)')
    .option('--json', 'print JSON')
    .action(async (opts: { backend?: string; json?: boolean }) => {
      const config = loadConfig();
      await run(backendsFrom(opts.backend ?? config.backend, () => configuredBackends(config)), opts.json);
    });

  program
    .command('doctor')
    .description('Check the configuration, the catalog and every configured backend, with advice (debug_storage_backends.py)')
    .option('--backend <name>', 'local | s3 | minio | supabase | all (default: every configured one)')
    .option('--json', 'print JSON')
    .action(async (opts: { backend?: string; json?: boolean }) => {
      const config = loadConfig();
      const kinds = backendsFrom(opts.backend, () => configuredBackends(config));
      let catalog: { ok: boolean; dialect?: string; message: string };
      try {
        const c = await openCatalog(config.databaseUrl);
        await c.ping();
        catalog = { ok: true, dialect: c.dialect, message: `catalog (${c.dialect}) answers` };
        await c.close();
      } catch (err) {
        catalog = { ok: false, message: `catalog unreachable: ${(err as Error).message} — check DATABASE_URL` };
      }
      if (!opts.json) {
        console.log(`configuration: backend ${config.backend}, bucket path ${config.bucketPath}, max upload ${config.maxUploadBytes} bytes`);
        console.log(`${catalog.ok ? 'OK  ' : 'FAIL'} ${catalog.message}`);
      }
      await run(kinds, opts.json, { configuredBackend: config.backend, catalog });
      if (!catalog.ok) process.exitCode = 3;
    });
}
