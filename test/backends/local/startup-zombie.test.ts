import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { createLocalBackend } from '../../../src/backends/local/index.js';

/** A process killed with -9 whose parent never reaps it: a zombie, as a just-killed server is for a moment. */
async function zombiePid(): Promise<{ pid: number; stop: () => void }> {
  const parent = spawn('sh', ['-c', 'sleep 60 & echo $!; exec sleep 61'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const stop = () => parent.kill('SIGKILL');
  const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
  const proc = (path: string) => readFile(path, 'utf8').catch(() => '');
  // Kill the child only once the shell has become `sleep 61`: a shell still running may reap
  // its background job (it did on a loaded machine), and then there is no zombie to find.
  for (let i = 0; i < 500 && !(await proc(`/proc/${parent.pid}/cmdline`)).startsWith('sleep\u000061'); i++) await delay(10);
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 500 && !/\) Z/.test(await proc(`/proc/${pid}/stat`)); i++) await delay(10);
  if (!/\) Z/.test(await proc(`/proc/${pid}/stat`))) {
    stop();
    throw new Error(`process ${pid} did not stay a zombie`);
  }
  return { pid, stop };
}

it.skipIf(!existsSync('/proc/self/stat'))('sweeps the temps of a writer killed with -9 even before it is reaped', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bg-zombie-'));
  const zombie = await zombiePid();
  try {
    await mkdir(join(root, 'uploads'), { recursive: true });
    const temp = join(root, 'uploads', `.bg-tmp-${zombie.pid}-0123456789abcdef`);
    await writeFile(temp, 'half an upload');
    const backend = await createLocalBackend({ root, fsync: false });
    await backend.close();
    expect(existsSync(temp)).toBe(false);
  } finally {
    zombie.stop();
    await rm(root, { recursive: true, force: true });
  }
});
