import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JwtAuthority } from '../../src/auth/jwt.js';
import { freePort } from '../support/ports.js';

/**
 * The real service as a child process (`bucketgate serve`), for tests that kill it. Started
 * from a bundle of src/cli/main.ts (esbuild, built once per test process): a restart then takes
 * ~0.6 s instead of ~1.3 s under tsx, which is what lets 100+ kill -9 trials run in `npm test`.
 * The bundle lives two folders under the repository so `../../package.json` still resolves.
 */
const REPO = resolve(import.meta.dirname, '../..');
let entry: Promise<string[]> | undefined;

async function buildEntry(): Promise<string[]> {
  const out = join(REPO, '.cache', 'bundle', `main-${process.pid}.mjs`);
  try {
    const { build } = await import('esbuild');
    mkdirSync(join(REPO, '.cache', 'bundle'), { recursive: true });
    await build({ entryPoints: [join(REPO, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'error' });
    process.once('exit', () => rmSync(out, { force: true }));
    if (existsSync(out)) return [out];
  } catch {
    // no esbuild: run the sources under tsx
  }
  return ['--import', 'tsx', join(REPO, 'src/cli/main.ts')];
}

export interface ServiceProcess {
  url: string;
  port: number;
  child: ChildProcess;
  env: Record<string, string>;
  token: string;
  output(): string;
  /** `kill -9`: no cleanup of any kind runs. */
  kill9(): Promise<void>;
  /** SIGTERM; resolves with the exit code once the process is gone. */
  terminate(): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  bucketPath: string;
  env?: Record<string, string>;
  port?: number;
  jwtSecret?: string;
  /** Its own process group (pid = group id), for signals sent to the whole group. */
  detached?: boolean;
}

export async function spawnService(opts: SpawnOptions): Promise<ServiceProcess> {
  entry ??= buildEntry();
  const args = await entry;
  const port = opts.port ?? (await freePort());
  const jwtSecret = opts.jwtSecret ?? randomBytes(32).toString('hex');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    BHIV_BUCKET_PATH: opts.bucketPath,
    JWT_SECRET: jwtSecret,
    HOST: '127.0.0.1',
    PORT: String(port),
    MAX_UPLOAD_SIZE_MB: '16',
    NODE_NO_WARNINGS: '1',
    ...opts.env,
  };
  const child = spawn(process.execPath, [...args, 'serve'], { cwd: opts.bucketPath, env, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached === true });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`service did not start within 30 s:\n${output}`)), 30_000);
    const check = () => {
      if (output.includes('listening on')) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        ready();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`service exited (${code}) before listening:\n${output}`));
    });
  });
  const token = await new JwtAuthority(jwtSecret).mint({ role: 'service_role', sub: 'resilience-test', ttlSeconds: 3600 });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    env,
    token,
    output: () => output,
    exited,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Restarts a service on the same folder, port and secret (as an operator would after a crash). */
export function respawn(previous: ServiceProcess, bucketPath: string): Promise<ServiceProcess> {
  return spawnService({ bucketPath, env: previous.env, port: previous.port, jwtSecret: previous.env.JWT_SECRET });
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** Client calls the tests make, each a real HTTP request. */
export const client = {
  async upload(s: { url: string; token: string }, segment: string, filename: string, body: Buffer, signal?: AbortSignal) {
    const qs = new URLSearchParams({ segment, filename, contentType: 'application/octet-stream' });
    const g = await fetch(`${s.url}/cdn/upload-url?${qs}`, { headers: auth(s.token), signal });
    if (g.status !== 200) return { status: g.status, body: await g.text() };
    const { uploadUrl } = (await g.json()) as { uploadUrl: string };
    const res = await fetch(uploadUrl, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' }, signal });
    const text = await res.text();
    return { status: res.status, body: text, object: res.status === 201 ? (JSON.parse(text) as { id: string; key: string; size: number; sha256: string }) : undefined };
  },
  async grant(s: { url: string; token: string }, segment: string, filename: string) {
    const qs = new URLSearchParams({ segment, filename, contentType: 'application/octet-stream' });
    const g = await fetch(`${s.url}/cdn/upload-url?${qs}`, { headers: auth(s.token) });
    return (await g.json()) as { uploadUrl: string; token: string };
  },
  async download(s: { url: string; token: string }, id: string, range?: string) {
    const res = await fetch(`${s.url}/cdn/stream/${id}`, { headers: { ...auth(s.token), ...(range ? { range } : {}) } });
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
  },
  async remove(s: { url: string; token: string }, id: string) {
    const res = await fetch(`${s.url}/cdn/files/${id}`, { method: 'DELETE', headers: auth(s.token) });
    return res.status;
  },
  async list(s: { url: string; token: string }, segment: string) {
    const items: { id: string; key: string; size: number; sha256: string | null }[] = [];
    let cursor: string | undefined;
    do {
      const qs = new URLSearchParams({ segment, limit: '1000', ...(cursor ? { cursor } : {}) });
      const res = await fetch(`${s.url}/cdn/list?${qs}`, { headers: auth(s.token) });
      if (res.status !== 200) throw new Error(`list ${res.status}: ${await res.text()}`);
      const page = (await res.json()) as { items: typeof items; cursor?: string };
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return items;
  },
  async status(s: { url: string }) {
    return (await (await fetch(`${s.url}/storage/status`)).json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  },
};
