import { describe } from 'vitest';
import { describeMultipart } from './behaviour/multipart.js';
import { describeObjects } from './behaviour/objects.js';
import { describePresign } from './behaviour/presign.js';
import { describeCredentials } from './behaviour/credentials.js';
import { describeDirectPut } from './behaviour/direct-put.js';
import { describeInterop } from './behaviour/interop.js';
import { describeSetup } from './behaviour/setup.js';
import { describeConnectionTest, describeWrongRegion } from './behaviour/connection.js';
import { describeEncryption } from './behaviour/encryption.js';
import { useS3Server } from './env.js';

describe('s3 backend on MinIO', () => {
  const env = useS3Server('minio');
  describeMultipart(env);
  describeObjects(env);
  describePresign(env);
  describeCredentials(env);
  describeDirectPut(env);
  describeInterop(env);
  describeSetup(env);
  describeConnectionTest(env);
  describeEncryption();
  describeWrongRegion();
});
