import { checkPutOptions as checkContract } from '../../core/put-options.js';
import type { PutOptions } from '../../core/types.js';
import { checkMetadata } from './metadata.js';

export { checkDelimiter, checkDescribe, checkIfNoneMatch } from '../../core/put-options.js';

/** The contract's checks, plus the sidecar's metadata rules. */
export function checkPutOptions(opts: PutOptions) {
  const checked = checkContract(opts);
  return { ...checked, maxBytes: Number.isFinite(checked.maxBytes) ? checked.maxBytes : undefined, metadata: checkMetadata(opts.metadata) };
}
