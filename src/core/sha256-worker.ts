import { Worker } from 'node:worker_threads';

/**
 * SHA-256 on a second thread. Hashing 100 MiB costs ~55 ms of CPU; on the main thread it
 * stalls the event loop that feeds file and socket writes, so it adds up with the I/O instead
 * of overlapping it. One shared worker hashes every large body while the main thread keeps
 * the bytes moving. Each chunk is copied once (a memcpy) and transferred.
 */
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.type === 'chunk') {
    let hash = jobs.get(m.id);
    if (!hash) jobs.set(m.id, (hash = createHash('sha256')));
    hash.update(m.data);
    parentPort.postMessage({ id: m.id, acked: m.data.byteLength });
  } else if (m.type === 'end') {
    const hash = jobs.get(m.id) || createHash('sha256');
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: hash.digest('hex') });
  } else if (m.type === 'abort') {
    jobs.delete(m.id);
  }
});
`;

interface Job {
  onAck(bytes: number): void;
  onDigest(hex: string): void;
}

let worker: Worker | undefined;
let nextId = 1;
const jobs = new Map<number, Job>();

function shared(): Worker {
  if (worker) return worker;
  const w = new Worker(SOURCE, { eval: true });
  w.unref(); // never keeps a process alive
  w.on('message', (m: { id: number; acked?: number; digest?: string }) => {
    const job = jobs.get(m.id);
    if (!job) return;
    if (m.digest !== undefined) {
      jobs.delete(m.id);
      job.onDigest(m.digest);
    } else job.onAck(m.acked ?? 0);
  });
  w.on('error', () => {
    worker = undefined;
  });
  worker = w;
  return w;
}

/** One body's hash on the shared worker. */
export class OffThreadSha256 {
  private readonly id = nextId++;
  private readonly worker = shared();
  private pending = 0;
  private waiting: (() => void) | undefined;
  private digestWaiter: ((hex: string) => void) | undefined;

  constructor(private readonly maxPendingBytes = 16 * 1024 * 1024) {
    jobs.set(this.id, {
      onAck: (bytes) => {
        this.pending -= bytes;
        if (this.waiting && this.pending <= this.maxPendingBytes / 2) {
          const resume = this.waiting;
          this.waiting = undefined;
          resume();
        }
      },
      onDigest: (hex) => this.digestWaiter?.(hex),
    });
  }

  /** Queues a chunk; calls `ready` at once, or later when the worker has caught up. */
  update(chunk: Buffer, ready: () => void): void {
    const copy = new Uint8Array(chunk.length);
    copy.set(chunk);
    this.pending += copy.byteLength;
    this.worker.postMessage({ type: 'chunk', id: this.id, data: copy }, [copy.buffer]);
    if (this.pending > this.maxPendingBytes) this.waiting = ready;
    else ready();
  }

  digest(): Promise<string> {
    return new Promise((resolve) => {
      this.digestWaiter = resolve;
      this.worker.postMessage({ type: 'end', id: this.id });
    });
  }

  abort(): void {
    jobs.delete(this.id);
    this.worker.postMessage({ type: 'abort', id: this.id });
  }
}
