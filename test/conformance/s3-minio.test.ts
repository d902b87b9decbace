import { beforeAll } from 'vitest';
import { SERVER_START_TIMEOUT, backendFor, startServer } from '../backends/s3/fixture.js';
import { ensureMinioBinary } from '../servers/minio.js';
import { describeConformance } from './suite.js';

// Builds MinIO first if this machine has never built it (minutes), outside the suite's own start-up hook.
beforeAll(ensureMinioBinary, SERVER_START_TIMEOUT);

// The suite, unchanged, against a real MinIO the test starts and stops itself.
describeConformance('s3 on MinIO', async () => {
  const server = await startServer('minio');
  const backend = await backendFor(server);
  return { backend, cleanup: () => server.stop() };
});
