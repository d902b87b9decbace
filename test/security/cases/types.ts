import type { SecurityContext } from '../context.js';
import type { Refusal } from '../support.js';

/** An answer that may succeed but must not mention any of these (another user's names, ids, sizes). */
export interface Hiding {
  status: number;
  hides: (c: SecurityContext) => string[];
}

/** One hostile request and the refusal it must get; the suite also checks the store did not change. */
export interface Case {
  name: string;
  want: Refusal | Hiding;
  /** Runs before the "before" snapshot: what the case needs in place (it may change the store). */
  setup?(c: SecurityContext): Promise<unknown>;
  send(c: SecurityContext, prepared: unknown): Promise<Response>;
  /** Only on some backends (e.g. encrypted at rest). */
  only?: (c: SecurityContext) => boolean;
}

/** The same, for requests fetch will not send (malformed HTTP, stalls): raw bytes over a socket. */
export interface RawCase {
  name: string;
  want: Refusal | { closed: true };
  payload(c: SecurityContext): Promise<string | Buffer>;
  timeoutMs?: number;
}

export const json = (body: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });
