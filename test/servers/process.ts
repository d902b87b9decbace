import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export const execFileAsync = promisify(execFile);

/** Where built test servers are cached between runs (outside the repository). */
export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || `${process.env.HOME ?? '/tmp'}/.cache`;
  return process.env.BUCKETGATE_CACHE || `${base}/bucketgate`;
}

/** Fails with one line naming a missing program and the script that installs it. */
export async function requireCommands(names: readonly string[], hint: string): Promise<void> {
  const missing: string[] = [];
  for (const name of names) {
    try {
      await execFileAsync('sh', ['-c', `command -v ${name}`]);
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run ${hint}`);
}

/** Starts a long-running server with its output in a log file (read back when it fails to start). */
export function spawnLogged(command: string, args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

export async function tailOf(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls until `probe` succeeds; throws after `timeoutMs`, or at once when `gone()` says the server died. */
export async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>, gone: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone()) throw new Error(`${what} exited while starting`);
    if (await probe().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`${what} was not ready after ${Math.round(timeoutMs / 1000)} s`);
}

/** Any HTTP answer at all from the address (an S3 server answers `/` even without credentials). */
export async function answersHttp(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return true;
}

/** Stops a process by its pid: SIGTERM, then SIGKILL if it has not gone after `graceMs`. */
export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await sleep(100);
  if (alive()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Stops a child we spawned and waits for its exit. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await stopPid(child.pid, graceMs);
  await Promise.race([exited, sleep(graceMs)]);
}
