import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * When JWT_SECRET is unset the service makes one at first start and keeps it beside the
 * catalog (mode 0600), so tokens survive restarts. Returns whether it was just created.
 */
export async function loadOrCreateSecret(path: string): Promise<{ secret: string; created: boolean }> {
  try {
    const secret = (await readFile(path, 'utf8')).trim();
    if (secret.length >= 32) return { secret, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(48).toString('base64url');
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'w' });
  return { secret, created: true };
}
