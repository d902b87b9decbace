import { execFile } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { bearer } from '../context.js';
import { upload } from '../../support/http.js';
import type { Case } from './types.js';

const run = promisify(execFile);

/** Flips one byte of a stored file in place, keeping its mtime to the nanosecond (a careful attacker). */
async function flipByte(path: string, position: number): Promise<void> {
  const before = await stat(path, { bigint: true });
  const fh = await open(path, 'r+');
  const one = Buffer.alloc(1);
  await fh.read(one, 0, 1, position);
  one[0]! ^= 0x01;
  await fh.write(one, 0, 1, position);
  await fh.close();
  const ns = before.mtimeNs;
  await run('touch', ['-m', '-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, path]);
}

const encrypted = (c: Parameters<Case['send']>[0]) => c.h.storage.config.security.encryptionKey !== undefined && c.h.storage.config.backend === 'local';

export const atRestCases: Case[] = [
  {
    name: 'a stored file altered on disk is refused, not served',
    want: { status: 422, code: 'ChecksumMismatch' },
    only: encrypted,
    setup: async (c) => {
      const stored = await upload(c.h, 'uploads', `tamper-${randomBytes(3).toString('hex')}.bin`, randomBytes(200_000));
      await flipByte(join(c.h.bucketPath, stored.key), 100);
      return stored.id;
    },
    send: (c, id) => fetch(c.url(`/cdn/download/${id as string}`), { headers: bearer(c.h.serviceToken) }),
  },
  {
    name: 'a range inside an altered chunk is refused',
    want: { status: 422, code: 'ChecksumMismatch' },
    only: encrypted,
    setup: async (c) => {
      const stored = await upload(c.h, 'uploads', `tamper-${randomBytes(3).toString('hex')}.bin`, randomBytes(200_000));
      await flipByte(join(c.h.bucketPath, stored.key), 36 + 2 * (65536 + 16) + 5);
      return stored.id;
    },
    send: (c, id) => fetch(c.url(`/cdn/stream/${id as string}`), { headers: { ...bearer(c.h.serviceToken), range: 'bytes=140000-140100' } }),
  },
];
