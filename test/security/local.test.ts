import { describeSecuritySuite } from './suite.js';

describeSecuritySuite('local disk');
