#!/usr/bin/env node
/* global process, console */
// Builds the dashboard served at `/`: compiles src/web/app for the browser (tsconfig.web.json)
// into dist/web/js and copies src/web/static into dist/web. `--if-stale` skips the work when
// nothing under src/web changed since the last build (the test setup calls it on every run).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
const stamp = join(out, '.built');

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newestMtime(join(path, name))), stat.mtimeMs);
}

const inputs = [join(root, 'src', 'web'), join(root, 'tsconfig.web.json'), fileURLToPath(import.meta.url)];
if (process.argv.includes('--if-stale') && existsSync(stamp)) {
  if (Math.max(...inputs.map(newestMtime)) <= statSync(stamp).mtimeMs) process.exit(0);
}

// A clean folder: a module deleted from src/web/app must not linger in the package.
rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.web.json')], { stdio: 'inherit' });
if (result.status !== 0) {
  console.error('build-web: compiling the dashboard (tsconfig.web.json) failed');
  process.exit(result.status ?? 1);
}
cpSync(join(root, 'src', 'web', 'static'), out, { recursive: true });
writeFileSync(stamp, `${new Date().toISOString()}\n`);
