import { writeFileSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, rawClient } from '../servers/server.js';
import { minioContents, openMultipartUploads, startRestartableMinio } from './minio-restartable.js';
import { auditLocalStore } from './audit.js';
import { bytes, sha256, tempDir } from './helpers.js';
import { type ServiceProcess, client, respawn, spawnService } from './service-process.js';

/**
 * Model-based test (fast-check): random sequences of uploads (each with a single-use token),
 * reads, range reads, deletes, listings, token reuse, primary outages and recoveries, and
 * kill -9 + restart, run against the real service process on local disk and compared after
 * every step with an in-memory model. At the end the primary itself must hold exactly what
 * the model holds, with no debris. BHIV_MODEL_RUNS sets the number of sequences.
 */
const RUNS = Number(process.env.BHIV_MODEL_RUNS ?? 12);
const KEYS = ['m0.bin', 'm1.bin', 'm2.bin', 'dir/m3.bin'];

interface Model {
  objects: Map<string, { data: Buffer; onPrimary: boolean }>;
  down: boolean;
}
interface Real {
  svc: ServiceProcess;
  dir: string;
  faults: string;
  ids: Map<string, string>;
  log: string[];
}

const setDown = (r: Real, down: boolean) => writeFileSync(r.faults, JSON.stringify({ seed: 1, down }));

async function waitDrained(r: Real) {
  const until = Date.now() + 30_000;
  for (;;) {
    const s = await client.status(r.svc).catch(() => undefined);
    if (s?.fallback?.pending === 0) return;
    if (Date.now() > until) throw new Error(`outbox did not drain: ${JSON.stringify(s?.fallback)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** A read while the primary is down may fail with 503 only for what is on the primary alone. */
function readable(m: Model, name: string, status: number): boolean {
  const o = m.objects.get(name);
  return status === 503 && m.down && o !== undefined && o.onPrimary;
}

class Put implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly name: string,
    readonly size: number,
    readonly seed: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const data = bytes(this.size, this.seed);
    const res = await client.upload(r.svc, 'uploads', this.name, data);
    expect(res.status, res.body).toBe(201);
    expect(res.object!.sha256).toBe(sha256(data));
    r.ids.set(this.name, res.object!.id);
    m.objects.set(this.name, { data, onPrimary: !m.down });
  }
  toString = () => `put(${this.name}, ${this.size})`;
}

class Get implements fc.AsyncCommand<Model, Real> {
  constructor(readonly name: string) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const id = r.ids.get(this.name);
    if (!id) return;
    const got = await client.download(r.svc, id);
    const want = m.objects.get(this.name);
    if (readable(m, this.name, got.status)) return;
    if (!want) return void expect(got.status).toBe(404);
    expect(got.status).toBe(200);
    expect(sha256(got.bytes)).toBe(sha256(want.data));
  }
  toString = () => `get(${this.name})`;
}

class Range implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly name: string,
    readonly from: number,
    readonly length: number,
  ) {}
  check = (m: Readonly<Model>) => (m.objects.get(this.name)?.data.length ?? 0) > 0;
  async run(m: Model, r: Real) {
    const want = m.objects.get(this.name)!.data;
    const start = Math.floor(this.from * want.length);
    const end = Math.min(want.length - 1, start + this.length);
    const got = await client.download(r.svc, r.ids.get(this.name)!, `bytes=${start}-${end}`);
    if (readable(m, this.name, got.status)) return;
    expect(got.status).toBe(206);
    expect(got.bytes.equals(want.subarray(start, end + 1))).toBe(true);
  }
  toString = () => `range(${this.name}, ${this.from.toFixed(2)}, ${this.length})`;
}

class Delete implements fc.AsyncCommand<Model, Real> {
  constructor(readonly name: string) {}
  check = (m: Readonly<Model>) => m.objects.has(this.name);
  async run(m: Model, r: Real) {
    expect(await client.remove(r.svc, r.ids.get(this.name)!)).toBe(204);
    m.objects.delete(this.name);
  }
  toString = () => `delete(${this.name})`;
}

class List implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real) {
    const items = await client.list(r.svc, 'uploads');
    expect(items.map((i) => `${i.key} ${i.size}`).sort()).toEqual([...m.objects].map(([k, o]) => `uploads/${k} ${o.data.length}`).sort());
  }
  toString = () => 'list';
}

class TokenReuse implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly name: string,
    readonly seed: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const g = await client.grant(r.svc, 'uploads', this.name);
    const data = bytes(1000, this.seed);
    const send = () => fetch(g.uploadUrl, { method: 'POST', body: data, headers: { 'content-type': 'application/octet-stream' } });
    const first = await send();
    expect(first.status).toBe(201);
    r.ids.set(this.name, ((await first.json()) as { id: string }).id);
    m.objects.set(this.name, { data, onPrimary: !m.down });
    const second = await send();
    expect(second.status).toBe(401);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('InvalidToken');
  }
  toString = () => `tokenReuse(${this.name})`;
}

class Down implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => !m.down;
  async run(m: Model, r: Real) {
    setDown(r, true);
    m.down = true;
  }
  toString = () => 'primaryDown';
}

class Up implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.down;
  async run(m: Model, r: Real) {
    setDown(r, false);
    await waitDrained(r);
    for (const o of m.objects.values()) o.onPrimary = true;
    m.down = false;
  }
  toString = () => 'primaryUp';
}

class CrashRestart implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(_m: Model, r: Real) {
    await r.svc.kill9();
    r.svc = await respawn(r.svc, r.dir);
  }
  toString = () => 'kill-9+restart';
}

const name = fc.constantFrom(...KEYS);
const commands = [
  fc.tuple(name, fc.integer({ min: 1, max: 300_000 }), fc.nat()).map(([n, size, seed]) => new Put(n, size, seed)),
  name.map((n) => new Get(n)),
  fc.tuple(name, fc.double({ min: 0, max: 0.99, noNaN: true }), fc.integer({ min: 0, max: 50_000 })).map(([n, f, l]) => new Range(n, f, l)),
  name.map((n) => new Delete(n)),
  fc.constant(new List()),
  fc.tuple(name, fc.nat()).map(([n, s]) => new TokenReuse(n, s)),
  fc.constant(new Down()),
  fc.constant(new Up()),
  fc.constant(new CrashRestart()),
];

/** What the primary itself holds under uploads/: key (without the segment) → SHA-256. */
type PrimaryContents = (r: Real) => Promise<Map<string, string>>;

const localContents: PrimaryContents = async (r) => {
  const out = new Map<string, string>();
  const walk = async (d: string, prefix: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.set(`${prefix}${e.name}`, sha256(await readFile(join(d, e.name))));
    }
  };
  await walk(join(r.dir, 'uploads'), '');
  return out;
};

/** After the sequence: primary back, outbox drained, and the primary holds exactly the model. */
async function finalCheck(m: Model, r: Real, contents: PrimaryContents, local: boolean) {
  if (m.down) await new Up().run(m, r);
  const code = await r.svc.terminate();
  expect(code, `${r.svc.child.signalCode} ${r.svc.output().slice(-300)}`).toBe(0);
  const held = await contents(r);
  expect(new Map([...held].sort())).toEqual(new Map([...m.objects].map(([k, o]): [string, string] => [k, sha256(o.data)]).sort()));
  if (local) {
    const audit = await auditLocalStore(r.dir);
    expect(audit).toMatchObject({ tempFiles: 0, orphanRows: [], orphanObjects: [], outboxPending: 0, outboxFailed: 0, fallbackBlobs: 0 });
  }
}

interface ModelBackend {
  local: boolean;
  /** A fresh, empty primary for one sequence: the service's variables and a way to read it back. */
  fresh(): Promise<{ env: Record<string, string>; contents: PrimaryContents }>;
  stop?(): Promise<void>;
}

function describeModel(name: string, backend: () => Promise<ModelBackend>) {
  describe(`model-based: the service against an in-memory model (${name})`, () => {
    let made: Awaited<ReturnType<typeof backend>>;
    beforeAll(async () => {
      made = await backend();
    }, 20 * 60_000);
    afterAll(async () => made?.stop?.());

    it(`agrees with the model over ${RUNS} random sequences`, { timeout: 900_000 }, async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'max' }), async (cmds) => {
          const dir = await tempDir('bg-model-');
          const faults = join(dir, 'faults.json');
          const r: Real = { svc: undefined as unknown as ServiceProcess, dir, faults, ids: new Map(), log: [] };
          const primary = await made.fresh();
          setDown(r, false);
          r.svc = await spawnService({
            bucketPath: dir,
            env: {
              BHIV_FAULTS: `@${faults}`,
              BHIV_RETRY_BASE_DELAY_MS: '5',
              BHIV_CIRCUIT_FAILURES: '3',
              BHIV_CIRCUIT_HALF_OPEN_MS: '200',
              BHIV_REPLAY_INTERVAL_MS: '100',
              ...primary.env,
            },
          });
          const m: Model = { objects: new Map(), down: false };
          try {
            await fc.asyncModelRun(() => ({ model: m, real: r }), cmds);
            if (process.env.BHIV_MODEL_LOG) console.log(String(cmds));
            await finalCheck(m, r, primary.contents, made.local);
          } finally {
            await r.svc.kill9();
            await rm(dir, { recursive: true, force: true });
            run++;
          }
        }),
        { numRuns: RUNS, endOnFailure: true, seed: Number(process.env.BHIV_MODEL_SEED ?? 20261128) },
      );
      expect(run).toBeGreaterThan(0);
    });
  });
}

describeModel('local disk', async () => ({ local: true, fresh: async () => ({ env: {}, contents: localContents }) }));

describeModel('MinIO', async () => {
  const minio = await startRestartableMinio();
  const s3 = rawClient(minio);
  let n = 0;
  return {
    local: false,
    async fresh() {
      const bucket = `${minio.bucket}-m${n++}`;
      await createBucket(minio, bucket);
      const env = { BHIV_STORAGE_BACKEND: 'minio', S3_BUCKET_NAME: bucket, S3_ENDPOINT_URL: minio.endpoint, AWS_ACCESS_KEY_ID: minio.accessKeyId, AWS_SECRET_ACCESS_KEY: minio.secretAccessKey };
      const contents: PrimaryContents = async () => {
        const held = await minioContents(s3, bucket, 'uploads/');
        expect(await openMultipartUploads(s3, bucket)).toBe(0);
        return new Map([...held].map(([k, v]) => [k.slice('uploads/'.length), v]));
      };
      return { env, contents };
    },
    async stop() {
      s3.destroy();
      await minio.destroy();
    },
  };
});
