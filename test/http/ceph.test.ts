import { startCeph } from '../servers/ceph.js';
import { s3Env } from './s3.js';
import { describeHttpService } from './suite.js';

describeHttpService('Ceph RADOS Gateway (BHIV_STORAGE_BACKEND=s3)', undefined, s3Env('s3', () => startCeph({ bucket: 'http-suite' })));
