import { describe } from 'vitest';
import { describeMultipart } from './behaviour/multipart.js';
import { useS3Server } from './env.js';

describe('s3 backend on Ceph RADOS Gateway', () => {
  const env = useS3Server('ceph');
  describeMultipart(env);
});
