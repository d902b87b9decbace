import type { FigureInput } from './report.js';

/** What a benchmark gets from the runner. */
export interface BenchContext {
  /** The benchmark's name (its file name without `.bench.ts`). */
  readonly name: string;
  /** Measured runs per figure (BENCH_RUNS, default 7). */
  readonly runs: number;
  /** Prints one figure as a JSON line now, and keeps it for the table. */
  report(figure: FigureInput): void;
  /** Progress, to stderr (stdout carries only figures and the table). */
  log(message: string): void;
}

export interface Benchmark {
  /** One line for the README and the progress output. */
  describe: string;
  /** Why it cannot run on this machine (a missing program, server…), or undefined when it can. */
  missing?(): Promise<string | undefined>;
  run(ctx: BenchContext): Promise<void>;
}

/** Thrown when a prerequisite turns out to be missing only once the benchmark has started. */
export class SkipBench extends Error {
  override readonly name = 'SkipBench';
}

export function defineBench(bench: Benchmark): Benchmark {
  return bench;
}
