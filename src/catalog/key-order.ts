import { StorageError } from '../core/errors.js';

/**
 * Keys are ordered by their UTF-8 bytes everywhere (backends, SQLite BINARY, PostgreSQL
 * `COLLATE "C"`). That order is the same as code point order, which is *not* JavaScript's
 * `<` (UTF-16 units): U+FF5E sorts before U+1F600 in bytes but after it in UTF-16.
 */

const LONE_SURROGATE = /\p{Cs}/u;
const MAX_CODE_POINT = 0x10ffff;

export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Text with a lone surrogate has no UTF-8 form, so it can match no key; refuse it plainly. */
export function assertWellFormed(text: string, what: string): void {
  if (LONE_SURROGATE.test(text)) throw new StorageError('InvalidArgument', `${what} is not valid Unicode text`);
}

/**
 * The smallest string greater than every string that starts with `prefix`, in code point
 * order: the prefix with its last code point incremented (dropping trailing U+10FFFF).
 * `key >= prefix AND key < bound` then selects exactly the keys with that prefix, with no
 * LIKE (SQLite's LIKE ignores ASCII case, and `%`/`_` would need escaping) and using the
 * key index as a range. Undefined when no bound exists (the prefix is all U+10FFFF).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix, (ch) => ch.codePointAt(0) ?? 0);
  while (points.length > 0) {
    const last = points.pop() as number;
    if (last === MAX_CODE_POINT) continue;
    // Surrogate code points are not characters; the next one after U+D7FF is U+E000.
    const next = last === 0xd7ff ? 0xe000 : last + 1;
    return String.fromCodePoint(...points, next);
  }
  return undefined;
}
