import { randomBytes } from 'node:crypto';
import { describeSecuritySuite } from './suite.js';

describeSecuritySuite('local disk, encrypted at rest', { env: { BHIV_ENCRYPTION_KEY: randomBytes(32).toString('base64') } });
