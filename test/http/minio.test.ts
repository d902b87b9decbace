import { startMinio } from '../servers/minio.js';
import { s3Env } from './s3.js';
import { describeHttpService } from './suite.js';

describeHttpService('MinIO (BHIV_STORAGE_BACKEND=minio)', undefined, s3Env('minio', () => startMinio({ bucket: 'http-suite' })));
