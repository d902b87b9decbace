import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The line prefix a child uses to hand its peak RSS (and any result) to the parent. */
const MARK = 'BENCH_CHILD ';
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildReport<T> {
  /** Peak resident set size of the child process over its whole life, in bytes. */
  peakRssBytes: number;
  result: T;
}

/**
 * Called inside a child: at exit, prints its peak RSS (getrusage's ru_maxrss, the kernel's own
 * high-water mark, so no sampling can miss a spike) and `result()` on one marked stdout line.
 */
export function reportAtExit(result: () => unknown = () => null): void {
  process.once('exit', () => {
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    process.stdout.write(`${MARK}${JSON.stringify({ peakRssBytes, result: result() })}\n`);
  });
}

/**
 * Runs a TypeScript file in a fresh `node --import tsx` process (one process: the RSS read is
 * the workload's own, not a launcher's) and returns what it reported at exit.
 */
export function runChild<T = unknown>(script: string, args: readonly string[], timeoutMs = 120_000): Promise<ChildReport<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(MARK));
      if (code !== 0 || !line) {
        reject(new Error(`child ${script} ${args.join(' ')} ended with ${signal ?? `code ${code}`}: ${stderr.trim().slice(-800) || stdout.trim().slice(-800)}`));
        return;
      }
      resolve(JSON.parse(line.slice(MARK.length)) as ChildReport<T>);
    });
  });
}
