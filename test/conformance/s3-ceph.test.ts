import { backendFor, startServer } from '../backends/s3/fixture.js';
import { describeConformance } from './suite.js';

// The suite, unchanged, against a real Ceph RADOS Gateway the test starts and stops itself.
describeConformance('s3 on Ceph RADOS Gateway', async () => {
  const server = await startServer('ceph');
  const backend = await backendFor(server);
  return { backend, cleanup: () => server.stop() };
});
