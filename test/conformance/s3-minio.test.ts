import { backendFor, startServer } from '../backends/s3/fixture.js';
import { describeConformance } from './suite.js';

// The suite, unchanged, against a real MinIO the test starts and stops itself.
describeConformance('s3 on MinIO', async () => {
  const server = await startServer('minio');
  const backend = await backendFor(server);
  return { backend, cleanup: () => server.stop() };
});
