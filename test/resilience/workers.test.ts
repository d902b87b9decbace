import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { bytes, sha256, tempDir } from './helpers.js';
import { type ServiceProcess, client, spawnService } from './service-process.js';

/**
 * `bucketgate serve --workers N` (BHIV_WORKERS): a primary process supervising N workers that
 * share the port. Real processes, signals and sockets.
 */
const dirs: string[] = [];
const services: ServiceProcess[] = [];
afterAll(async () => {
  for (const s of services) await s.kill9();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function start(env: Record<string, string> = {}, detached = false) {
  const bucketPath = await tempDir('bg-workers-');
  dirs.push(bucketPath);
  const service = await spawnService({ bucketPath, env: { BHIV_WORKERS: '2', ...env }, detached });
  services.push(service);
  return service;
}

/** The worker processes of a primary, by pid. */
function workersOf(primary: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(primary)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there is none
  }
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A GET on a connection of its own: the cluster hands each new connection to the next worker. */
function freshGet(s: ServiceProcess, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(`${s.url}${path}`, { agent: false, headers: { authorization: `Bearer ${s.token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${path}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
  });
}

/** A GET's status on a connection of its own; undefined when no answer came within `timeoutMs`. */
function freshStatus(s: ServiceProcess, path: string, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = get(`${s.url}${path}`, { agent: false, headers: { authorization: `Bearer ${s.token}` }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.on('error', reject);
  });
}

/** A download whose reader stops after its first bytes until resume() — a request in flight. */
function slowDownload(s: ServiceProcess, path: string) {
  let resume = () => {};
  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const body = new Promise<Buffer>((resolve, reject) => {
    const req = get(`${s.url}${path}`, { agent: false, headers: { authorization: `Bearer ${s.token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`download: ${res.statusCode}`));
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('data', () => {
        res.pause();
        resume = () => res.resume();
        started();
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { started: startedP, body, resume: () => resume() };
}

/** The sum of one metric's samples matching `labels`, from a /metrics text. */
function metricValue(text: string, name: string, labels: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labels))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('serve with several worker processes', () => {
  it('serves from every worker, announces once, and /metrics adds the workers up', async () => {
    const s = await start();
    expect(s.output().match(/listening on/g)).toHaveLength(1);
    expect(s.output()).toContain('2 workers');
    expect(workersOf(s.child.pid!)).toHaveLength(2);

    const bodies = Array.from({ length: 12 }, (_, i) => bytes(1000 + i));
    const stored = await Promise.all(bodies.map((b, i) => client.upload(s, 'uploads', `w/${i}.bin`, b)));
    for (const [i, r] of stored.entries()) {
      expect(r.status).toBe(201);
      const got = await client.download(s, r.object!.id);
      expect(sha256(got.bytes)).toBe(sha256(bodies[i]!));
    }
    // Each worker counts its own puts (performance is per worker)…
    const perWorker = new Set<number>();
    for (let i = 0; i < 8; i++) perWorker.add((JSON.parse(await freshGet(s, '/observability/performance')) as { backends: { local: { put: { count: number } } } }).backends.local.put.count);
    expect([...perWorker].every((n) => n < 12)).toBe(true);
    // …and /metrics adds them up, whichever worker answers.
    for (let i = 0; i < 4; i++) expect(metricValue(await freshGet(s, '/metrics'), 'bucketgate_backend_operation_seconds_count', 'operation="put"')).toBe(12);
  });

  it('replaces a worker that dies, keeps serving, and stops every worker on SIGTERM', async () => {
    const s = await start();
    const [first] = workersOf(s.child.pid!);
    process.kill(first!, 'SIGKILL');
    const replacement = await until('a replacement worker', () => /worker (\d+) listening/.exec(s.output())?.[1]);
    expect(s.output()).toContain(`worker ${first} exited (signal SIGKILL): starting another`);
    const replaced = workersOf(s.child.pid!);
    expect(replaced).toHaveLength(2);
    expect(replaced).toContain(Number(replacement));
    expect(replaced).not.toContain(first);
    for (let i = 0; i < 6; i++) expect((await client.upload(s, 'uploads', `after/${i}.bin`, bytes(10))).status).toBe(201);

    expect(await s.terminate()).toBe(0);
    for (const pid of replaced) expect(() => process.kill(pid, 0)).toThrow();
  });

  // Ctrl-C and systemd's KillMode=control-group signal every process of the group, the workers
  // included: each worker must still stop once, gracefully, with its requests finished.
  it.each(['SIGINT', 'SIGTERM'] as const)('stops once, gracefully, on a %s to the whole process group, finishing a download in flight', async (signal) => {
    const s = await start({}, true);
    const pids = workersOf(s.child.pid!);
    expect(pids).toHaveLength(2);
    const body = bytes(6 * 1024 * 1024, 3);
    const { object } = await client.upload(s, 'uploads', 'inflight.bin', body);
    const reading = slowDownload(s, `/cdn/download/${object!.id}`);
    await reading.started;
    process.kill(-s.child.pid!, signal);
    await new Promise((r) => setTimeout(r, 300));
    reading.resume();
    expect(sha256(await reading.body)).toBe(sha256(body));
    expect(await s.exited).toBe(0);
    expect(s.output()).not.toMatch(/again: exiting now|exited \(signal/);
    expect(s.output().match(/refusing new requests/g)).toHaveLength(2);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('stops every worker gracefully on a signal to the primary alone', async () => {
    const s = await start();
    const pids = workersOf(s.child.pid!);
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(s.output().match(/stop asked by the primary: refusing new requests/g)).toHaveLength(2);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('answers /metrics while a dead worker is being replaced, and never crashes the primary', async () => {
    const s = await start();
    const [first] = workersOf(s.child.pid!);
    process.kill(first!, 'SIGKILL');
    // A connection the primary hands to the worker in the instant it dies is lost (node:cluster
    // sends it to the dead process): such a request gets no answer, and is not counted here.
    // The scrapes start once the primary has seen the exit, for the second until the
    // replacement listens.
    await until('the primary to see the exit', () => (s.output().includes(`worker ${first} exited`) ? true : undefined));
    const statuses: number[] = [];
    const deadline = Date.now() + 8_000;
    while (!/worker \d+ listening/.test(s.output()) && Date.now() < deadline) {
      const status = await freshStatus(s, '/metrics', 2_000);
      if (status !== undefined) statuses.push(status);
    }
    expect(s.output()).toMatch(/worker \d+ listening/);
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(s.child.exitCode).toBeNull();
    // Gauges that mean the same in every worker are not added up.
    const text = await freshGet(s, '/metrics');
    expect(metricValue(text, 'bucketgate_circuit_state', 'backend=')).toBe(0);
    expect(text).toMatch(/^bucketgate_fallback_enabled 1$/m);
  });

  it('refuses a bad worker count, and stops when its workers cannot listen', async () => {
    for (const workers of ['0', '2.5', 'many', '65']) {
      await expect(start({ BHIV_WORKERS: workers })).rejects.toThrow(/BHIV_WORKERS/);
    }
    const port = await freePort();
    const taken = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    try {
      const bucketPath = await tempDir('bg-workers-');
      dirs.push(bucketPath);
      await expect(spawnService({ bucketPath, port, env: { BHIV_WORKERS: '2' } })).rejects.toThrow(/exited \(1\) before listening[\s\S]*before it listened: stopping/);
    } finally {
      taken.close();
    }
  });
});
