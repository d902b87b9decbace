import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalBackend } from '../../src/backends/local/index.js';
import { describeConformance } from './suite.js';

describeConformance('local disk', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bucketgate-conformance-'));
  const backend = await createLocalBackend({ root });
  return { backend, cleanup: () => rm(root, { recursive: true, force: true }) };
});
