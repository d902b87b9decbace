import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalBackend } from '../../src/backends/local/index.js';
import { describeConformance } from './suite.js';

// The suite, unchanged, on the local backend with encryption at rest (BHIV_ENCRYPTION_KEY).
describeConformance('local disk, encrypted', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bucketgate-conformance-enc-'));
  const backend = await createLocalBackend({ root, encryptionKey: randomBytes(32) });
  return { backend, cleanup: () => rm(root, { recursive: true, force: true }) };
});
