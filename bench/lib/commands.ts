import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

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

/**
 * Runs a program to completion with its output discarded (as `cmd > /dev/null`: the kernel
 * drops the bytes, no pipe back to us to slow it down); rejects on a non-zero exit.
 */
export function runQuiet(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}
