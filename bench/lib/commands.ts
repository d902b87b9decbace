import { type ChildProcess, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const launcherScript = fileURLToPath(new URL('../children/launcher.mjs', import.meta.url));

/** Full path of a program on PATH (plus the sbin folders, where Debian puts nginx), or undefined. */
export async function findCommand(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The programs among `names` that are missing, as one readable reason (or undefined). */
export async function missingCommands(names: readonly string[], hint: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (const name of names) if (!(await findCommand(name))) missing.push(name);
  return missing.length > 0 ? `${missing.join(', ')} not installed (${hint})` : undefined;
}

interface Exit {
  id: number;
  code?: number | null;
  signal?: string | null;
  stderr?: string;
  error?: string;
}

let launcher: { child: ChildProcess; waiting: Map<number, (exit: Exit) => void>; pipeOut: { ref(): void } } | undefined;
let nextId = 0;

/** The long-lived helper that forks the anchors' programs for us (see children/launcher.mjs). */
function theLauncher(): NonNullable<typeof launcher> {
  if (launcher) return launcher;
  const child = spawn(process.execPath, [launcherScript], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = new Map<number, (exit: Exit) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const exit = JSON.parse(line) as Exit;
    waiting.get(exit.id)?.(exit);
    waiting.delete(exit.id);
    if (waiting.size === 0) pipeOut.unref();
  });
  // 'close', not 'exit': replies still buffered in the pipe are read first.
  child.once('close', () => {
    for (const settle of waiting.values()) settle({ id: -1, error: 'the bench launcher process exited' });
    waiting.clear();
    if (launcher?.child === child) launcher = undefined;
  });
  child.stdin!.on('error', () => undefined); // a dead launcher: 'close' above fails what waits
  // Idle, the launcher must not keep the bench alive; a request in flight must.
  const pipeOut = child.stdout as unknown as { ref(): void; unref(): void };
  child.unref();
  (child.stdin as unknown as { unref(): void }).unref();
  pipeOut.unref();
  launcher = { child, waiting, pipeOut };
  return launcher;
}

/**
 * Runs a program to completion with its output discarded (as `cmd > /dev/null`: the kernel
 * drops the bytes, no pipe back to us to slow it down); rejects on a non-zero exit. The program
 * is started by the launcher process, not by this one: forking here would tax whatever this
 * process times next (copy-on-write faults), which is the subject, not the anchor.
 */
export function runQuiet(cmd: string, args: readonly string[]): Promise<void> {
  const { child, waiting, pipeOut } = theLauncher();
  const id = nextId++;
  pipeOut.ref();
  return new Promise((resolve, reject) => {
    waiting.set(id, (exit) => {
      if (exit.error) reject(new Error(`${cmd}: ${exit.error}`));
      else if (exit.code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${exit.signal ?? `exit ${exit.code}`}): ${(exit.stderr ?? '').trim()}`));
    });
    child.stdin!.write(`${JSON.stringify({ id, cmd, args })}\n`);
  });
}
