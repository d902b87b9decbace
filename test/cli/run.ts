import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// Absolute, so the command can run in any folder.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the real `bucketgate` command (from source, through tsx) in `cwd`. */
export function startCli(args: string[], opts: { cwd: string; env?: Record<string, string> }): ChildProcess {
  const env = { ...process.env, ...opts.env };
  for (const name of Object.keys(env)) if (/^(BHIV_|S3_|AWS_|SUPABASE_|USE_|DATABASE_URL|JWT_)/.test(name) && !(name in (opts.env ?? {}))) delete env[name];
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function cli(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  const child = startCli(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr: stderr.replace(/^\(node:\d+\).*\n(\(Use .*\n)?/gm, '') })));
}
