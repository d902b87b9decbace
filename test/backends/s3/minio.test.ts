import { describe } from 'vitest';
import { describeMultipart } from './behaviour/multipart.js';
import { useS3Server } from './env.js';

describe('s3 backend on MinIO', () => {
  const env = useS3Server('minio');
  describeMultipart(env);
});
