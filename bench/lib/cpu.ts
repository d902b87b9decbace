/**
 * CPU time spent by other processes (and their children: nginx's workers) while a case runs,
 * read from /proc/<pid>/task/<tid>/schedstat (nanoseconds on the CPU, every thread counted).
 * On a 2-core machine the client and the server share the cores, so a server's figure is
 * bounded by the CPU it needs per request: this says how much that is.
 */
import { readFile, readdir } from 'node:fs/promises';

async function threadsNs(pid: number): Promise<number> {
  let total = 0;
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const tid of tids) {
    const line = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '0');
    total += Number(line.split(' ')[0]);
  }
  return total;
}

async function childrenOf(pid: number): Promise<number[]> {
  const line = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return line.split(' ').filter(Boolean).map(Number);
}

/** Nanoseconds of CPU used so far by `pid`, its threads and its living children. */
export async function processTreeCpuNs(pid: number): Promise<number> {
  let total = await threadsNs(pid);
  for (const child of await childrenOf(pid)) total += await processTreeCpuNs(child);
  return total;
}

/**
 * CPU per run of a case, in ms: of the server (process tree `pid`, when there is one) and of
 * this process (the client). The first `warmup` runs (interleave's untimed round) are left out.
 */
export class CpuTally {
  private readonly serverMs: number[] = [];
  private readonly clientMs: number[] = [];

  constructor(
    private readonly pid?: number,
    private readonly warmup = 1,
  ) {}

  /** Wraps a case's `run`: its CPU is tallied, its timing left to the caller. */
  wrap<T>(fn: () => Promise<T>): () => Promise<T> {
    return async () => {
      const server = this.pid === undefined ? 0 : await processTreeCpuNs(this.pid);
      const client = process.cpuUsage();
      const result = await fn();
      const used = process.cpuUsage(client);
      if (this.pid !== undefined) this.serverMs.push(((await processTreeCpuNs(this.pid)) - server) / 1e6);
      this.clientMs.push((used.user + used.system) / 1000);
      return result;
    };
  }

  /** Server CPU of each timed run, ms. */
  get server(): number[] {
    return this.serverMs.slice(this.warmup);
  }

  /** Client CPU of each timed run, ms. */
  get client(): number[] {
    return this.clientMs.slice(this.warmup);
  }
}
