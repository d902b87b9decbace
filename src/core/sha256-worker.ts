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
    parentPort.postMessage({ id: m.id, acked: m.data.byteLength, data: m.data }, [m.data.buffer]);
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
/**
 * Buffers come back from the worker and are reused, so memory stays at what is in flight
 * instead of every copy becoming garbage that waits for a GC. Bounded in bytes: enough for
 * every body in flight at its pending limit.
 */
const spare: ArrayBuffer[] = [];
let spareBytes = 0;
const SPARE_BYTES = 16 * 1024 * 1024;

function bufferFor(bytes: number): Uint8Array {
  const index = spare.findIndex((b) => b.byteLength >= bytes);
  if (index < 0) return new Uint8Array(new ArrayBuffer(Math.max(bytes, 1 << 16)), 0, bytes);
  const buffer = spare.splice(index, 1)[0]!;
  spareBytes -= buffer.byteLength;
  return new Uint8Array(buffer, 0, bytes);
}
let nextId = 1;
const jobs = new Map<number, Job>();

function shared(): Worker {
  if (worker) return worker;
  const w = new Worker(SOURCE, { eval: true });
  w.on('message', (m: { id: number; acked?: number; digest?: string; data?: Uint8Array }) => {
    if (m.data && spareBytes + m.data.buffer.byteLength <= SPARE_BYTES) {
      spare.push(m.data.buffer as ArrayBuffer);
      spareBytes += m.data.buffer.byteLength;
    }
    const job = jobs.get(m.id);
    if (!job) return;
    if (m.digest !== undefined) {
      finish(m.id);
      job.onDigest(m.digest);
    } else job.onAck(m.acked ?? 0);
  });
  w.on('error', () => {
    worker = undefined;
  });
  w.unref(); // after the listeners (adding one refs the port): an idle worker never keeps a process alive
  worker = w;
  return w;
}

/** The worker holds the process open only while some body is being hashed. */
function finish(id: number): void {
  jobs.delete(id);
  if (jobs.size === 0) worker?.unref();
}

/** One body's hash on the shared worker. */
export class OffThreadSha256 {
  private readonly id = nextId++;
  private readonly worker = shared();
  private pending = 0;
  private waiting: (() => void) | undefined;
  private digestWaiter: ((hex: string) => void) | undefined;

  constructor(private readonly maxPendingBytes = 2 * 1024 * 1024) {
    this.worker.ref();
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
    const copy = bufferFor(chunk.length);
    copy.set(chunk);
    this.pending += copy.byteLength;
    this.worker.postMessage({ type: 'chunk', id: this.id, data: copy }, [copy.buffer as ArrayBuffer]);
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
    finish(this.id);
    this.worker.postMessage({ type: 'abort', id: this.id });
  }
}
