import { StorageError } from './errors.js';

/**
 * Object keys are `segment/path/to/filename`. This is the one parser every backend and
 * every edge uses, so a key means the same thing everywhere and a hostile one is refused
 * before it reaches any I/O.
 */

export const DEFAULT_SEGMENTS = ['uploads', 'videos', 'scripts', 'storyboards', 'ratings', 'logs'] as const;
export const MAX_KEY_BYTES = 1024;
/** Names starting with this are the backends' own (temp files); no key part may use it. */
export const RESERVED_PART_PREFIX = '.bg-';
const SEGMENT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
// C0 controls, DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface ParsedKey {
  /** The normalised key (NFC). */
  key: string;
  segment: string;
  /** Everything after `segment/`. */
  path: string;
  parts: string[];
}

function invalid(message: string, raw: unknown): StorageError {
  const shown = typeof raw === 'string' ? JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw) : typeof raw;
  return new StorageError('InvalidKey', `${message}: ${shown}`);
}

export function isValidSegmentName(name: string): boolean {
  return SEGMENT_NAME.test(name);
}

/** With the u flag a surrogate pair is one code point, so only unpaired halves match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function checkText(raw: unknown): string {
  if (typeof raw !== 'string') throw invalid('key must be a string', raw);
  if (raw.includes('\\')) throw invalid('key contains a backslash', raw);
  if (CONTROL.test(raw)) throw invalid('key contains a control character', raw);
  // A lone surrogate has no UTF-8 form: stored, it would become U+FFFD and no longer be this key.
  if (LONE_SURROGATE.test(raw)) throw invalid('key is not well-formed Unicode (a lone surrogate)', raw);
  const key = raw.normalize('NFC');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw invalid(`key is longer than ${MAX_KEY_BYTES} UTF-8 bytes`, raw);
  return key;
}

function checkPart(part: string, raw: string): void {
  if (part === '') throw invalid('key has an empty part', raw);
  if (part === '.' || part === '..') throw invalid('key has a "." or ".." part', raw);
  if (part.startsWith(RESERVED_PART_PREFIX)) throw invalid(`key part starts with the reserved "${RESERVED_PART_PREFIX}"`, raw);
}

export interface KeyRuleOptions {
  /**
   * Longest part (between slashes) in UTF-8 bytes, for a store that names a file after each
   * part (local disk: 250). Refused when a key is first parsed — an upload URL is not handed out
   * for a key the upload would then fail on.
   */
  maxPartBytes?: number;
}

export class KeyRules {
  readonly segments: readonly string[];
  private readonly known: ReadonlySet<string>;

  constructor(
    segments: readonly string[] = DEFAULT_SEGMENTS,
    private readonly options: KeyRuleOptions = {},
  ) {
    for (const s of segments) {
      if (!isValidSegmentName(s)) throw new StorageError('ConfigInvalid', `segment name ${JSON.stringify(s)} must match ${SEGMENT_NAME}`);
    }
    this.segments = [...segments];
    this.known = new Set(segments);
  }

  isSegment(name: string): boolean {
    return this.known.has(name);
  }

  /** Parses a full object key; throws InvalidKey. */
  parse(raw: unknown): ParsedKey {
    const key = checkText(raw);
    if (key === '') throw invalid('key is empty', raw);
    if (key.startsWith('/')) throw invalid('key starts with "/"', raw);
    const parts = key.split('/');
    for (const part of parts) checkPart(part, key);
    const longest = this.options.maxPartBytes;
    if (longest !== undefined && parts.some((part) => Buffer.byteLength(part, 'utf8') > longest)) {
      throw invalid(`a part of the key is longer than the ${longest} bytes this store can hold in a name`, raw);
    }
    const segment = parts[0] as string;
    if (!this.known.has(segment)) throw invalid(`unknown segment "${segment}" (known: ${this.segments.join(', ')})`, raw);
    if (parts.length < 2) throw invalid('key has no filename after its segment', raw);
    return { key, segment, path: parts.slice(1).join('/'), parts };
  }

  /** Builds and parses `segment/filename`. */
  join(segment: string, filename: string): ParsedKey {
    if (typeof segment !== 'string' || !this.known.has(segment)) throw invalid('unknown segment', segment);
    return this.parse(`${segment}/${filename}`);
  }

  /**
   * Parses a listing prefix: `''`, a partial segment, `segment/`, or `segment/dir/partial`.
   * Every complete part obeys the key rules; the last may be partial or empty.
   */
  parsePrefix(raw: unknown): string {
    if (raw === undefined || raw === null) return '';
    const prefix = checkText(raw);
    if (prefix === '') return '';
    if (prefix.startsWith('/')) throw invalid('prefix starts with "/"', raw);
    const parts = prefix.split('/');
    const complete = parts.slice(0, -1);
    for (const part of complete) checkPart(part, prefix);
    if (complete.length > 0 && !this.known.has(complete[0] as string)) {
      throw invalid(`unknown segment "${complete[0]}"`, raw);
    }
    return prefix;
  }

  /** Checks `asked` as a prefix within `segment`; returns it normalised (NFC), as keys are stored. */
  prefixWithin(segment: string, asked: string): string {
    return this.parsePrefix(`${segment}/${asked}`).slice(segment.length + 1);
  }
}

export const defaultKeyRules = new KeyRules();
