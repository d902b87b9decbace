#!/usr/bin/env node
/* global process, console */
// Builds the dashboard served at `/`: compiles src/web/app for the browser (tsconfig.web.json)
// into dist/web/js and copies src/web/static into dist/web. `--if-stale` skips the work when
// nothing under src/web changed since the last build (the test setup calls it on every run).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

// Built beside the target, then swapped in: a running service or a parallel test run never
// reads a half-written folder, and a module deleted from src/web/app doesn't linger.
const staging = join(root, 'dist', `.web-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.web.json'), '--outDir', join(staging, 'js')], { stdio: 'inherit' });
if (result.status !== 0) {
  rmSync(staging, { recursive: true, force: true });
  console.error('build-web: compiling the dashboard (tsconfig.web.json) failed');
  process.exit(result.status ?? 1);
}
cpSync(join(root, 'src', 'web', 'static'), staging, { recursive: true });
writeFileSync(join(staging, '.built'), `${new Date().toISOString()}\n`);
const old = join(root, 'dist', `.web-old-${process.pid}`);
if (existsSync(out)) renameSync(out, old);
renameSync(staging, out);
rmSync(old, { recursive: true, force: true });
