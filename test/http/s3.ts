import type { S3TestServer } from '../servers/server.js';
import type { EnvSetup } from './suite.js';

/** The guide's variables for a test S3 server, so the service builds its backend as in production. */
export function s3Env(kind: 's3' | 'minio', start: () => Promise<S3TestServer>): EnvSetup {
  return async () => {
    const server = await start();
    return {
      env: {
        BHIV_STORAGE_BACKEND: kind,
        S3_BUCKET_NAME: server.bucket,
        S3_REGION: server.region,
        S3_ENDPOINT_URL: server.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: server.accessKeyId,
        AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      },
      cleanup: () => server.stop(),
    };
  };
}
