import { describeHttpService } from './suite.js';

describeHttpService('local disk');
