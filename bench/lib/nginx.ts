/**
 * A throwaway nginx — the raw-HTTP anchor (DESIGN §7): static GET of a folder and WebDAV PUT
 * into it, on a free 127.0.0.1 port, with everything (config, pid, logs, body temp files)
 * in a temp prefix folder. It runs in the foreground (`daemon off`) as our child, so it dies
 * with us. Used by the benchmarks and, through test/servers/nginx.ts, by tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findCommand } from './commands.js';

export interface NginxInstance {
  /** `http://127.0.0.1:<port>` (no trailing slash); `${url}/name` is `${root}/name`. */
  url: string;
  /** The folder served by GET and written by PUT. */
  root: string;
  port: number;
  /** Master process id. */
  pid: number;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Serve this folder (kept on stop); default a fresh folder inside the temp prefix. */
  root?: string;
  /** Worker processes (default 2: one per core here). */
  workers?: number;
}

const INSTALL_HINT = 'run: bash scripts/provision-nginx.sh';

/** Why nginx cannot be started here, or undefined. */
export async function nginxMissing(): Promise<string | undefined> {
  return (await findCommand('nginx')) ? undefined : `nginx not installed (${INSTALL_HINT})`;
}

/** A port nobody listens on right now (another process may still take it: startNginx retries). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function config(prefix: string, root: string, port: number, workers: number): string {
  const q = (path: string) => JSON.stringify(path); // nginx accepts double-quoted strings
  const tmp = (name: string) => q(join(prefix, 'tmp', name));
  return `# Written by bench/lib/nginx.ts for one benchmark or test run.
${process.getuid?.() === 0 ? 'user root;  # as root, workers would otherwise drop to nobody and could not write the temp prefix' : ''}
daemon off;
master_process on;
worker_processes ${workers};
pid ${q(join(prefix, 'nginx.pid'))};
error_log ${q(join(prefix, 'logs', 'error.log'))} warn;
events { worker_connections 4096; }
http {
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  access_log off;
  keepalive_requests 1000000;
  # Body temp files on the same file system as the root: a finished PUT is a rename.
  client_body_temp_path ${tmp('body')};
  client_body_buffer_size 1m;
  proxy_temp_path ${tmp('proxy')};
  fastcgi_temp_path ${tmp('fastcgi')};
  uwsgi_temp_path ${tmp('uwsgi')};
  scgi_temp_path ${tmp('scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${q(root)};
    location / {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
      client_max_body_size 0;
    }
  }
}
`;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

async function tail(file: string): Promise<string> {
  return (await readFile(file, 'utf8').catch(() => '(no log)')).trim().split('\n').slice(-5).join('\n');
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return Promise.race([new Promise<boolean>((r) => child.once('exit', () => r(true))), sleep(ms).then(() => false)]);
}

async function launch(binary: string, prefix: string, root: string, workers: number): Promise<NginxInstance | 'port-taken'> {
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  const errorLog = join(prefix, 'logs', 'error.log');
  await writeFile(conf, config(prefix, root, port, workers));
  // -e: the compiled-in error log (/var/log/nginx) may not be writable, and is not ours.
  const child = spawn(binary, ['-p', prefix, '-c', conf, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`nginx did not start: ${stderr}`);
  // If our process exits without stop(), take nginx down with it (the master stops its workers).
  const onExit = () => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await answers(url))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      process.removeListener('exit', onExit);
      const log = `${stderr}\n${await tail(errorLog)}`.trim();
      if (/Address already in use/.test(log)) return 'port-taken';
      throw new Error(`nginx exited while starting: ${log}`);
    }
    if (Date.now() > deadline) {
      onExit();
      process.removeListener('exit', onExit);
      throw new Error(`nginx did not answer on ${url} within 10 s: ${await tail(errorLog)}`);
    }
    await sleep(50);
  }
  return {
    url,
    root,
    port,
    pid,
    async stop() {
      process.removeListener('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM'); // fast shutdown: the master stops the workers, then exits
        if (!(await waitExit(child, 5000))) {
          child.kill('SIGKILL');
          await waitExit(child, 2000);
        }
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** Starts nginx; `stop()` shuts it down and removes its prefix folder (and the root, if it made it). */
export async function startNginx(opts: NginxOptions = {}): Promise<NginxInstance> {
  const binary = await findCommand('nginx');
  if (!binary) throw new Error(`nginx not installed (${INSTALL_HINT})`);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const prefix = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), 'bucketgate-nginx-'));
    for (const dir of ['logs', 'tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'html']) {
      mkdirSync(join(prefix, dir), { recursive: true });
    }
    const root = opts.root ?? join(prefix, 'html');
    try {
      const started = await launch(binary, prefix, root, opts.workers ?? 2);
      if (started !== 'port-taken') return started;
    } catch (err) {
      rmSync(prefix, { recursive: true, force: true });
      throw err;
    }
    rmSync(prefix, { recursive: true, force: true });
  }
  throw new Error('nginx: no free port after 3 attempts');
}
