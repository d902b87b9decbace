import { createS3Backend, type S3BackendOptions } from '../../../src/backends/s3/index.js';
import type { S3Backend } from '../../../src/backends/s3/backend.js';
import { startCeph } from '../../servers/ceph.js';
import { startMinio } from '../../servers/minio.js';
import type { S3TestServer } from '../../servers/server.js';

export type ServerName = 'minio' | 'ceph';

/** Starting a server may include building MinIO the first time (minutes) or booting Ceph (~15 s). */
export const SERVER_START_TIMEOUT = 20 * 60_000;

export function startServer(name: ServerName): Promise<S3TestServer> {
  return name === 'minio' ? startMinio() : startCeph();
}

/** Backend options for a test server, as s3OptionsFromEnv would give them for BHIV_STORAGE_BACKEND=minio. */
export function optionsFor(server: S3TestServer, extra: Partial<S3BackendOptions> = {}): S3BackendOptions {
  return {
    bucket: server.bucket,
    region: server.region,
    endpoint: server.endpoint,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
    ...extra,
  };
}

export function backendFor(server: S3TestServer, extra: Partial<S3BackendOptions> = {}): Promise<S3Backend> {
  return createS3Backend(optionsFor(server, extra));
}
