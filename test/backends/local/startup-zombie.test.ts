import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createLocalBackend } from '../../../src/backends/local/index.js';

/** A process killed with -9 whose parent never reaps it: a zombie, as a just-killed server is for a moment. */
async function zombiePid(): Promise<{ pid: number; stop: () => void }> {
  const parent = spawn('sh', ['-c', 'sleep 60 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && !/\) Z/.test(await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${pid}/stat`, 'utf8'))); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return { pid, stop: () => parent.kill('SIGKILL') };
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
