import { backendFor, startServer } from '../backends/s3/fixture.js';
import { describeSecuritySuite } from './suite.js';

// The same hostile requests against the S3 backend on a real MinIO the test starts itself.
describeSecuritySuite('S3 on MinIO', {
  backend: async () => {
    const server = await startServer('minio');
    const backend = await backendFor(server);
    return { backend, cleanup: () => server.stop() };
  },
});
