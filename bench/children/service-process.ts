/**
 * The service and the CLI as separate processes, for the HTTP, gateway and migration
 * benchmarks (not a child script itself: a helper that starts them). The service gets its
 * own process so it does not share the benchmark's event loop, and so its peak RSS is its own.
 *
 * It runs as in production: `node dist/cli/main.js serve`, compiled from the current `src`
 * once per bench run into the scratch folder (tsc with tsconfig.build.json), not through tsx,
 * whose loader thread would add its own memory and start-up time to every figure. The repo's
 * own `dist` is not used: it may be older than `src`. `BENCH_SERVICE=tsx` runs the sources
 * through tsx instead (no build; RSS and CLI start-up then include the loader).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { freshDir, scratchDir } from '../lib/files.js';
import { download, uploadFile } from '../lib/http-client.js';
import { freePort } from '../lib/nginx.js';

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** How to run `bucketgate …`: a program and the arguments before the subcommand. */
export interface Cli {
  command: string;
  prefix: string[];
  /** `dist (built for this run)` or `tsx src`. */
  label: string;
}

let built: Promise<Cli> | undefined;

/** The CLI to run, built once per bench process (see the file comment). */
export function serviceCli(log: (message: string) => void = () => {}): Promise<Cli> {
  built ??= buildCli(log);
  return built;
}

async function buildCli(log: (message: string) => void): Promise<Cli> {
  if (process.env.BENCH_SERVICE === 'tsx') {
    return { command: process.execPath, prefix: ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts')], label: 'tsx src' };
  }
  // Layout of an installed package: <dir>/package.json (read for the version), <dir>/dist,
  // <dir>/node_modules (a link to the repo's).
  const dir = join(scratchDir(), 'service-build');
  await mkdir(dir, { recursive: true });
  await copyFile(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  if (!existsSync(join(dir, 'node_modules'))) await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const started = Date.now();
  log('building src into the scratch folder (tsc -p tsconfig.build.json)…');
  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
  try {
    await execFileAsync(process.execPath, [tsc, '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(dir, 'dist'), '--declaration', 'false', '--sourceMap', 'false'], {
      cwd: repoRoot,
      maxBuffer: 8 << 20,
    });
  } catch (err) {
    // Type errors (others may be mid-edit) still emit JavaScript; only a missing entry point is fatal.
    const out = (err as { stdout?: string }).stdout ?? '';
    if (!existsSync(join(dir, 'dist/cli/main.js'))) throw new Error(`tsc could not build the service: ${out.slice(0, 2000)}`);
    log(`tsc reported type errors (built anyway): ${out.split('\n')[0]}`);
  }
  log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // With the node flags `npm start` gives it (package.json), as the service runs in production.
  const main = join(dir, 'dist/cli/main.js');
  const start = (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const flags = (/\bnode((?:\s+--\S+)*)\s+dist\/cli\/main\.js/.exec(start)?.[1] ?? '').split(/\s+/).filter(Boolean);
  return { command: process.execPath, prefix: [...flags, main], label: 'dist (built for this run)' };
}

/**
 * The environment of a bucketgate process: ours without anything that configures bucketgate
 * (a developer's BHIV_*, S3_*, AWS_* or DATABASE_URL must not leak in), plus `env`.
 */
export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(BHIV_|S3_|AWS_|SUPABASE_|USE_|JWT_|DATABASE_URL$|MAX_UPLOAD_SIZE_MB$|PORT$|HOST$|PUBLIC_URL$|CLOUDFRONT_DOMAIN$)/.test(name)) continue;
    clean[name] = value;
  }
  return { ...clean, ...env };
}

export interface ServiceProcess {
  url: string;
  pid: number;
  bucketPath: string;
  /** A service_role bearer token (1 hour). */
  token: string;
  authHeader: { authorization: string };
  /** The process's current and peak resident set (VmRSS, VmHWM from /proc), in bytes. */
  memory(): Promise<{ rss: number; peak: number }>;
  /**
   * Waits (up to `maxMs`) for the resident set to settle after start-up: V8's memory reducer
   * shrinks the heap of an idle process about 10 s after its last burst of allocation, as it
   * would in a service that has been up for a while. Resolves to the settled RSS in bytes.
   */
  settle(maxMs?: number): Promise<number>;
  /** Resets the peak (VmHWM) to the current RSS (`clear_refs` 5), so a later peak is the workload's own. */
  resetPeak(): Promise<void>;
  /** Token flow: upload-url, then POST the file. Resolves to the stored object (id, sha256, …). */
  upload(path: string, filename: string, opts?: { segment?: string }): Promise<StoredObject>;
  /** Asks for an upload URL (the untimed half of an upload). */
  uploadUrl(filename: string, size: number, opts?: { segment?: string }): Promise<string>;
  remove(id: string): Promise<void>;
  stop(): Promise<void>;
}

export interface StoredObject {
  id: string;
  key: string;
  size: number;
  sha256?: string;
}

/** Reads VmRSS and VmHWM of a process: the kernel's own high-water mark, no sampling. */
export async function processMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => {
    const m = status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
    if (!m) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  if (await Promise.race([gone.then(() => true), sleep(15_000).then(() => false)])) return;
  child.kill('SIGKILL');
  await gone;
}

/** Signs a service_role token with the service's secret, as `bucketgate token --role service_role` would. */
async function serviceToken(secret: string): Promise<string> {
  return new SignJWT({ role: 'service_role' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setAudience('authenticated')
    .setSubject('bench')
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
    .sign(new TextEncoder().encode(secret));
}

/**
 * Starts `bucketgate serve` on a free 127.0.0.1 port with a fresh bucket folder (local
 * backend unless `env` says otherwise), MAX_UPLOAD_SIZE_MB=1024; resolves once /healthz answers.
 */
export async function startServiceProcess(opts: { env?: Record<string, string>; name?: string; log?: (message: string) => void } = {}): Promise<ServiceProcess> {
  const cli = await serviceCli(opts.log);
  const bucketPath = await freshDir(`${opts.name ?? 'service'}-${randomBytes(4).toString('hex')}`);
  const port = await freePort();
  const secret = randomBytes(32).toString('hex');
  const env = cliEnv({
    BHIV_BUCKET_PATH: bucketPath,
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: secret,
    MAX_UPLOAD_SIZE_MB: '1024',
    ...opts.env,
  });
  const logFile = join(bucketPath, '..', `${opts.name ?? 'service'}-${port}.log`);
  const logStream = createWriteStream(logFile);
  // cwd: the bucket folder, so no .env of the repo is read.
  const child = spawn(cli.command, [...cli.prefix, 'serve'], { cwd: bucketPath, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(logStream);
  child.stderr?.pipe(logStream);
  const pid = child.pid;
  if (pid === undefined) throw new Error('bucketgate serve did not start');
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited(child)) {
      process.removeListener('exit', onExit);
      throw new Error(`bucketgate serve exited while starting:\n${(await readFile(logFile, 'utf8').catch(() => '')).slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      process.removeListener('exit', onExit);
      throw new Error(`bucketgate serve did not answer within 60 s:\n${(await readFile(logFile, 'utf8').catch(() => '')).slice(-2000)}`);
    }
    await sleep(100);
  }
  const token = await serviceToken(secret);
  const authHeader = { authorization: `Bearer ${token}` };

  const uploadUrl = async (filename: string, size: number, o: { segment?: string } = {}): Promise<string> => {
    const q = new URLSearchParams({ segment: o.segment ?? 'uploads', filename, size: String(size) });
    const res = await fetch(`${url}/cdn/upload-url?${q}`, { headers: authHeader });
    const body = (await res.json()) as { uploadUrl?: string };
    if (!res.ok || !body.uploadUrl) throw new Error(`upload-url answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
    return body.uploadUrl;
  };

  return {
    url,
    pid,
    bucketPath,
    token,
    authHeader,
    memory: () => processMemory(pid),
    async settle(maxMs = 20_000) {
      const started = Date.now();
      const first = (await processMemory(pid)).rss;
      let rss = first;
      while (Date.now() - started < maxMs) {
        await sleep(250);
        rss = (await processMemory(pid)).rss;
        if (rss < first * 0.85) {
          await sleep(1000); // the reducer's pass may take a few GCs
          return (await processMemory(pid)).rss;
        }
      }
      return rss;
    },
    async resetPeak() {
      await writeFile(`/proc/${pid}/clear_refs`, '5');
    },
    uploadUrl,
    async upload(path, filename, o = {}) {
      const { size } = await stat(path);
      const target = await uploadUrl(filename, size, o);
      const res = await uploadFile(target, path, { method: 'POST', expect: (s) => s === 201 });
      return JSON.parse(res.text) as StoredObject;
    },
    async remove(id) {
      const res = await fetch(`${url}/cdn/files/${encodeURIComponent(id)}`, { method: 'DELETE', headers: authHeader });
      await res.arrayBuffer();
      if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE ${id} answered ${res.status}`);
    },
    async stop() {
      process.removeListener('exit', onExit);
      await stopChild(child);
      logStream.end();
    },
  };
}

/** Downloads an object through the service (private segment: with the bearer); throws on a short body. */
export async function serviceDownload(svc: ServiceProcess, id: string, expectedBytes: number, route: 'download' | 'stream' = 'download') {
  const res = await download(`${svc.url}/cdn/${route}/${encodeURIComponent(id)}`, { headers: svc.authHeader });
  if (res.bytes !== expectedBytes) throw new Error(`GET /cdn/${route}/${id} returned ${res.bytes} bytes, expected ${expectedBytes}`);
  return res;
}

/**
 * The Node floor (children/node-floor-server.mjs): a bare node:http server over `root`, in its
 * own process like the service, for "what Node itself reaches" beside each service figure.
 */
export async function startNodeFloor(root: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL('./node-floor-server.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, root], { stdio: ['ignore', 'pipe', 'pipe'] });
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = out.match(/listening (\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`node floor server exited (${code}): ${stderr.slice(-500)}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      process.removeListener('exit', onExit);
      await stopChild(child);
    },
  };
}
