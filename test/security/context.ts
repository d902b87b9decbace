import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auth, grant, upload } from '../support/http.js';
import { type BackendFactory, type ServiceHandle, startService } from '../support/service.js';

/** A stored object as the API returns it. */
export interface Stored {
  id: string;
  key: string;
  etag: string;
  size: number;
}

/** The service under attack and what it holds before any case runs. */
export interface SecurityContext {
  h: ServiceHandle;
  alice: string;
  bob: string;
  /** uploads/alice/secret.txt */
  aliceFile: Stored;
  /** scripts/alice/plan.txt: the policy file lets any signed-in user read scripts. */
  aliceScript: Stored;
  bobFile: Stored;
  /** logs/ops.log: the policy file makes logs service-only. */
  serviceLog: Stored;
  /** videos/ranges/clip.mp4: 20 bytes, public. */
  clip: Stored;
  /** The RS256 key whose public half is JWT_PUBLIC_KEY_FILE. */
  rsaPrivate: KeyObject;
  rsaPublicPem: string;
  /** Absolute URL of a path on the service. */
  url(path: string): string;
  stop(): Promise<void>;
}

/** The suite's policy file: one segment widened for reading, one closed to users. */
export const POLICY = {
  segments: {
    scripts: { read: 'authenticated' },
    logs: { read: 'service', write: 'service', delete: 'service' },
  },
};

export const MP4_HEAD = Buffer.from('\0\0\0\x14ftypisom0123mp41', 'latin1');

export async function startSecurityService(opts: { backend?: BackendFactory; env?: Record<string, string> } = {}): Promise<SecurityContext> {
  const dir = await mkdtemp(join(tmpdir(), 'bg-security-'));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaPublicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFile(join(dir, 'jwt.pem'), rsaPublicPem);
  await writeFile(join(dir, 'policy.json'), JSON.stringify(POLICY));
  const h = await startService({
    backend: opts.backend,
    env: { JWT_PUBLIC_KEY_FILE: join(dir, 'jwt.pem'), BHIV_POLICY_FILE: join(dir, 'policy.json'), MAX_UPLOAD_SIZE_MB: '2', ...opts.env },
  });
  const alice = await h.userToken('alice');
  const bob = await h.userToken('bob');
  const ctx: SecurityContext = {
    h,
    alice,
    bob,
    aliceFile: await upload(h, 'uploads', 'secret.txt', 'alice only', 'text/plain', alice),
    aliceScript: await upload(h, 'scripts', 'plan.txt', 'the plan', 'text/plain', alice),
    bobFile: await upload(h, 'uploads', 'own.txt', 'bob only', 'text/plain', bob),
    serviceLog: await upload(h, 'logs', 'ops.log', 'operator log line\n', 'text/plain'),
    clip: await upload(h, 'videos', 'ranges/clip.mp4', MP4_HEAD, 'video/mp4'),
    rsaPrivate: privateKey,
    rsaPublicPem,
    url: (path) => `${h.url}${path}`,
    async stop() {
      await h.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return ctx;
}

/** A fresh upload grant (token URL) for the service or a user. */
export function grantFor(c: SecurityContext, q: Record<string, string | number>, token = c.h.serviceToken) {
  return grant(c.h, q, token);
}

export const bearer = auth;
