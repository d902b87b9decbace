/**
 * Runs the benchmarks: every `bench/*.bench.ts`, or those named on the command line
 * (`npm run bench -- local`). Figures go to stdout as JSON lines (and are appended to
 * bench/results/latest.jsonl), progress to stderr, a table at the end. A missed target is a
 * FAIL in the table, not an error: the exit code is non-zero only when a benchmark crashed.
 */
import { readdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Benchmark, SkipBench } from './lib/bench.js';
import { defaultRuns } from './lib/measure.js';
import { Reporter, makeFigure } from './lib/report.js';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const SUFFIX = '.bench.ts';

// Turn Ctrl-C and SIGTERM into a normal exit so 'exit' handlers remove temp dirs and stop servers.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function available(): Promise<string[]> {
  const files = await readdir(benchDir);
  return files.filter((f) => f.endsWith(SUFFIX)).map((f) => basename(f, SUFFIX)).sort();
}

async function main(): Promise<number> {
  const all = await available();
  const asked = process.argv.slice(2).filter((a) => a !== '--');
  const unknown = asked.filter((a) => !all.includes(a));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; available: ${all.join(', ')}\n`);
    return 2;
  }
  const chosen = asked.length > 0 ? asked : all;
  const runs = defaultRuns();
  const reporter = new Reporter(join(benchDir, 'results', 'latest.jsonl'), new Date().toISOString());
  const cores = cpus().length;
  const load = () => loadavg()[0]!.toFixed(1);
  const loadAtStart = load();
  process.stderr.write(`bench: ${chosen.join(', ')} — node ${process.version}, ${cores} cores, ${runs} runs per figure, load ${loadAtStart}\n`);

  for (const name of chosen) {
    const started = Date.now();
    try {
      const mod = (await import(pathToFileURL(join(benchDir, name + SUFFIX)).href)) as { default: Benchmark };
      const bench = mod.default;
      const missing = await bench.missing?.();
      if (missing) {
        reporter.skip(name, missing);
        continue;
      }
      process.stderr.write(`\n== ${name}: ${bench.describe}\n`);
      await bench.run({
        name,
        runs,
        report: (input) => reporter.add(makeFigure(name, input)),
        log: (message) => process.stderr.write(`   ${name}: ${message}\n`),
      });
      process.stderr.write(`== ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      if (err instanceof SkipBench) reporter.skip(name, err.message);
      else reporter.crash(name, err);
    }
  }
  process.stdout.write(`\n${reporter.table()}\n`);
  // Other work on the machine skews even paired ratios: say how busy it was.
  process.stdout.write(`load average ${loadAtStart} at start, ${load()} at end, on ${cores} cores${Number(load()) > cores ? ' — busy machine: treat the figures with care' : ''}\n`);
  return reporter.hasCrashes ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench runner crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
