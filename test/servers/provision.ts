import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileAsync } from './process.js';

const scriptsDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../scripts');

/**
 * Runs scripts/provision-<name>.sh (quick when the tool is already cached) and returns the
 * path it prints on its last line: the tool is found where it was put, not on PATH.
 */
export async function provisionedBinary(name: string, timeoutMs = 20 * 60_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync('bash', [join(scriptsDir, `provision-${name}.sh`)], { timeout: timeoutMs, maxBuffer: 1 << 20 });
    const path = stdout.trim().split('\n').pop();
    if (!path) throw new Error(`provision-${name}.sh printed no path`);
    return path;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim().split('\n').pop();
    throw new Error(stderr || `could not provision ${name}: ${(err as Error).message}`);
  }
}
