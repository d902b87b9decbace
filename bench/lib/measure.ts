/** Timing helpers: warm-up, several runs, medians. The machine is noisy, so one run proves nothing. */

export const MiB = 1024 * 1024;

export interface Stats {
  /** Seconds (or whatever unit the samples are in). */
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export interface RunOptions {
  /** Measured runs (default: BENCH_RUNS or 7). */
  runs?: number;
  /** Unmeasured runs first, to warm caches and the JIT (default 1). */
  warmup?: number;
  /** Untimed work before each run (e.g. remove the previous output). */
  before?: () => Promise<void> | void;
  /** Untimed work after each run (e.g. fsync what a non-syncing anchor left dirty). */
  after?: () => Promise<void> | void;
}

/** One thing to time; `before`/`after` are untimed and run around every run, warm-ups included. */
export interface Case {
  name: string;
  run: () => Promise<unknown> | unknown;
  before?: () => Promise<void> | void;
  after?: () => Promise<void> | void;
}

export function defaultRuns(): number {
  const fromEnv = Number(process.env.BENCH_RUNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 7;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function stats(samples: readonly number[]): Stats {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples: [...samples] };
}

/** Wall-clock seconds of one call. */
export async function timeOnce(fn: () => Promise<unknown> | unknown): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Runs `fn` `warmup` times untimed, then `runs` times timed; seconds. */
export async function measure(fn: () => Promise<unknown> | unknown, opts: RunOptions = {}): Promise<Stats> {
  const [result] = await interleave([{ name: 'only', run: fn, before: opts.before, after: opts.after }], opts);
  return (result as InterleavedResult).seconds;
}

export interface InterleavedResult {
  name: string;
  /** samples[i] of every case come from the same round i: pair them for per-round ratios. */
  seconds: Stats;
}

/**
 * Times several cases round by round (A B C, then B C A, …): each round's cases share the
 * same moment of machine noise, and rotating the order keeps any case from always running
 * right after the heaviest one. Returns per-case samples aligned by round.
 */
export async function interleave(cases: readonly Case[], opts: RunOptions = {}): Promise<InterleavedResult[]> {
  const runs = opts.runs ?? defaultRuns();
  const warmup = opts.warmup ?? 1;
  const samples: number[][] = cases.map(() => []);
  for (let round = -warmup; round < runs; round++) {
    const offset = ((round % cases.length) + cases.length) % cases.length;
    for (let i = 0; i < cases.length; i++) {
      const index = (i + offset) % cases.length;
      const c = cases[index] as Case;
      await opts.before?.();
      await c.before?.();
      const seconds = await timeOnce(c.run);
      await c.after?.();
      await opts.after?.();
      if (round >= 0) (samples[index] as number[]).push(seconds);
    }
  }
  return cases.map((c, i) => ({ name: c.name, seconds: stats(samples[i] as number[]) }));
}

/** MiB/s for `bytes` moved in `seconds`. */
export function mibPerSecond(bytes: number, seconds: number): number {
  return bytes / MiB / seconds;
}

/** Throughput samples (MiB/s) from time samples. */
export function throughput(bytes: number, seconds: Stats): Stats {
  return stats(seconds.samples.map((s) => mibPerSecond(bytes, s)));
}

/**
 * Median of the per-round ratios subject/anchor: each ratio compares two runs made moments
 * apart, so noise that hits both cancels out. More robust than the ratio of two medians.
 */
export function pairedRatio(subject: Stats, anchor: Stats): number {
  const n = Math.min(subject.samples.length, anchor.samples.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push((subject.samples[i] as number) / (anchor.samples[i] as number));
  return median(ratios);
}
