import { type CheckedPutOptions, checkPutOptions as checkContract } from '../../core/put-options.js';
import type { PutOptions } from '../../core/types.js';
import { checkMetadata } from './metadata.js';

export { checkDelimiter, checkDescribe, checkIfNoneMatch, checkRangeShape } from '../../core/put-options.js';

export interface CheckedPut extends CheckedPutOptions {
  metadata: Record<string, string>;
}

/** The contract's checks, with S3's rules: header values travel as ASCII; S3's metadata limits. */
export function checkPutOptions(opts: PutOptions): CheckedPut {
  return { ...checkContract(opts, { asciiHeaders: true }), metadata: checkMetadata(opts.metadata) };
}
