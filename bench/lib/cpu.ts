/**
 * CPU time spent by other processes (and their children: nginx's workers) while a case runs,
 * read from /proc/<pid>/task/<tid>/schedstat (nanoseconds on the CPU, every thread counted).
 * On a 2-core machine the client and the server share the cores, so a server's figure is
 * bounded by the CPU it needs per request: this says how much that is.
 */
import { readFile, readdir } from 'node:fs/promises';
import type { Case } from './measure.js';

/** CPU so far of each living thread of a process tree, by "pid/tid", in ns. */
type ThreadTimes = Map<string, number>;

async function readThreads(pid: number, into: ThreadTimes): Promise<void> {
  const tids = await readdir(`/proc/${pid}/task`);
  for (const tid of tids) {
    // A thread may end between the listing and the read: it is simply not counted then.
    const line = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => undefined);
    if (line !== undefined) into.set(`${pid}/${tid}`, Number(line.split(' ')[0]));
  }
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  for (const child of children.split(' ').filter(Boolean)) await readThreads(Number(child), into).catch(() => undefined);
}

async function threadTimes(pid: number): Promise<ThreadTimes> {
  const times: ThreadTimes = new Map();
  await readThreads(pid, times);
  return times;
}

/** CPU used between two readings, in ms; undefined when a thread ended in between (its time is lost). */
function usedMs(before: ThreadTimes, after: ThreadTimes): number | undefined {
  let ns = 0;
  for (const [thread, end] of after) ns += end - (before.get(thread) ?? 0);
  for (const thread of before.keys()) if (!after.has(thread)) return undefined;
  return ns / 1e6;
}

/**
 * CPU per run of a case, in ms: of the server (process tree `pid`, when there is one) and of
 * this process (the client). The server is read in the case's before/after steps, outside the
 * timed run (a reading takes ~2 ms); runs in which a server thread ended are left out. The
 * first `warmup` runs (interleave's untimed round) are left out too.
 */
export class CpuTally {
  private readonly serverMs: (number | undefined)[] = [];
  private readonly clientMs: number[] = [];

  constructor(
    private readonly pid?: number,
    private readonly warmup = 1,
  ) {}

  /** The case with its CPU tallied; its timing unchanged. */
  track(c: Case): Case {
    let start: ThreadTimes | undefined;
    return {
      ...c,
      before: async () => {
        await c.before?.();
        if (this.pid !== undefined) start = await threadTimes(this.pid);
      },
      run: async () => {
        const client = process.cpuUsage();
        await c.run();
        const used = process.cpuUsage(client);
        this.clientMs.push((used.user + used.system) / 1000);
      },
      after: async () => {
        if (this.pid !== undefined && start) this.serverMs.push(usedMs(start, await threadTimes(this.pid)));
        await c.after?.();
      },
    };
  }

  /** Server CPU of each timed run, ms. */
  get server(): number[] {
    return this.serverMs.slice(this.warmup).filter((ms): ms is number => ms !== undefined);
  }

  /** Client CPU of each timed run, ms. */
  get client(): number[] {
    return this.clientMs.slice(this.warmup);
  }
}
