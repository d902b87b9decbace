import { Worker } from 'node:worker_threads';

/**
 * The one worker thread that hashes for the whole process (SHA-256: ~55 ms of CPU per 100 MiB,
 * which on the main thread stalls the event loop that keeps file and socket writes moving).
 * Bodies are jobs: streamed chunks arrive as transferred copies and go back for reuse
 * (sha256-worker.ts); parts in shared memory are hashed where they lie (shared-parts.ts).
 */
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
const running = (id) => {
  let hash = jobs.get(id);
  if (!hash) jobs.set(id, (hash = createHash('sha256')));
  return hash;
};
parentPort.on('message', (m) => {
  if (m.type === 'chunk') {
    running(m.id).update(m.data);
    parentPort.postMessage({ id: m.id, acked: m.data }, [m.data.buffer]);
  } else if (m.type === 'part') {
    const view = new Uint8Array(m.memory, m.offset, m.length);
    running(m.id).update(view);
    parentPort.postMessage({ id: m.id, part: createHash('sha256').update(view).digest('hex') });
  } else if (m.type === 'end') {
    const hash = jobs.get(m.id) || createHash('sha256');
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: hash.digest('hex') });
  } else if (m.type === 'abort') {
    jobs.delete(m.id);
  }
});
`;

interface HashJob {
  /** A streamed chunk was hashed; its copy comes back for reuse. */
  onAck?(copy: Uint8Array): void;
  /** A shared-memory part was hashed: its own SHA-256. */
  onPart?(hex: string): void;
  onDigest(hex: string): void;
  onError(err: Error): void;
}

/**
 * Shared memory the worker has seen stays alive while the worker holds a reference, which it
 * drops only when its heap is collected — rarely, as it allocates little. So once it has
 * hashed shared parts, an idle worker is stopped after IDLE_MS (and started again on demand),
 * and whoever pools such memory is told to let it go.
 */
const IDLE_MS = 2000;
const idleListeners: (() => void)[] = [];
let worker: Worker | undefined;
let sawSharedMemory = false;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 1;
const jobs = new Map<number, HashJob>();

function start(): Worker {
  const w = new Worker(SOURCE, { eval: true });
  w.on('message', (m: { id: number; acked?: Uint8Array; digest?: string; part?: string }) => {
    const job = jobs.get(m.id);
    if (m.acked !== undefined) job?.onAck?.(m.acked);
    else if (m.part !== undefined) job?.onPart?.(m.part);
    else if (m.digest !== undefined && job) {
      finishJob(m.id);
      job.onDigest(m.digest);
    }
  });
  // A dead worker fails every body it was hashing (none waits forever); the next body starts a new one.
  // A worker already replaced (stopped when idle) has no bodies left to fail.
  const lost = (err: Error) => {
    if (worker !== w) return;
    worker = undefined;
    for (const [id, job] of [...jobs]) {
      finishJob(id);
      job.onError(err);
    }
  };
  w.on('error', lost);
  w.on('exit', (code) => lost(new Error(`the hash worker stopped (exit code ${code})`)));
  w.unref(); // after the listeners (adding one refs the port): an idle worker never keeps a process alive
  return w;
}

/** Registers a body to hash; the worker holds the process open while any is registered. */
function startJob(job: HashJob): number {
  clearTimeout(idleTimer);
  idleTimer = undefined;
  worker ??= start();
  worker.ref();
  const id = nextId++;
  jobs.set(id, job);
  return id;
}

export function postToWorker(message: { type: 'chunk' | 'part' | 'end' | 'abort'; id: number; [field: string]: unknown }, transfer?: ArrayBuffer[]): void {
  if (message.type === 'part') sawSharedMemory = true;
  worker?.postMessage(message, transfer);
}

/** The job is over (digest given, aborted or failed): later answers for it are ignored. */
function finishJob(id: number): void {
  jobs.delete(id);
  if (jobs.size > 0 || !worker) return;
  worker.unref();
  if (sawSharedMemory && !idleTimer) {
    idleTimer = setTimeout(stopIdleWorker, IDLE_MS);
    idleTimer.unref();
  }
}

function stopIdleWorker(): void {
  idleTimer = undefined;
  if (jobs.size > 0 || !worker) return;
  void worker.terminate();
  worker = undefined;
  sawSharedMemory = false;
  for (const listener of idleListeners) listener();
}

/** Runs `listener` each time the worker stops after hashing shared memory (pools of it may then shrink). */
export function onWorkerIdle(listener: () => void): void {
  idleListeners.push(listener);
}

interface Waiter {
  resolve(hex: string): void;
  reject(err: Error): void;
}

/**
 * One body being hashed on the worker: what every kind shares — asking for the whole body's
 * digest, giving up, and failing whatever waits when the worker dies. Subclasses feed the bytes.
 */
export abstract class WorkerHashJob {
  protected readonly id: number;
  protected failure: Error | undefined;
  private digestWaiter: Waiter | undefined;

  constructor() {
    this.id = startJob({
      onAck: (copy) => this.acked(copy),
      onPart: (hex) => this.partHashed(hex),
      onDigest: (hex) => this.digestWaiter?.resolve(hex),
      onError: (err) => this.fail(err),
    });
  }

  /** The whole body's SHA-256, once every byte given so far has been hashed. */
  digest(): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.digestWaiter = { resolve, reject };
      postToWorker({ type: 'end', id: this.id });
    });
  }

  abort(): void {
    finishJob(this.id);
    postToWorker({ type: 'abort', id: this.id });
  }

  protected acked(_copy: Uint8Array): void {}

  protected partHashed(_hex: string): void {}

  /** The job cannot finish (worker died, or abandoned): whatever waits on it fails now. */
  protected fail(err: Error): void {
    this.failure ??= err;
    this.digestWaiter?.reject(this.failure);
  }
}
