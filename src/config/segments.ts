import { readFileSync } from 'node:fs';
import { isValidSegmentName } from '../core/keys.js';
import { configError } from './parse.js';

/** Per-segment rules (DESIGN §2): allowed content types, size limit, visibility, retention. */
export interface SegmentConfig {
  name: string;
  /** Anyone may read objects in a public segment; their downloads are cacheable. */
  public: boolean;
  /** MIME patterns such as `video/*`; null allows any type. */
  allowedTypes: string[] | null;
  maxBytes: number;
  /** Objects older than this many days are removed by `cleanup` and S3 lifecycle rules. */
  retentionDays: number | null;
}

/** The guide's folders, with the rules their contents suggest. */
export function defaultSegments(maxUploadBytes: number): SegmentConfig[] {
  const text = ['text/*', 'application/json', 'application/x-ndjson'];
  return [
    { name: 'uploads', public: false, allowedTypes: null, maxBytes: maxUploadBytes, retentionDays: null },
    { name: 'videos', public: true, allowedTypes: ['video/*', 'audio/*', 'image/*'], maxBytes: maxUploadBytes, retentionDays: null },
    { name: 'scripts', public: false, allowedTypes: [...text, 'application/pdf'], maxBytes: maxUploadBytes, retentionDays: null },
    { name: 'storyboards', public: false, allowedTypes: ['image/*', ...text, 'application/pdf'], maxBytes: maxUploadBytes, retentionDays: null },
    { name: 'ratings', public: false, allowedTypes: ['application/json', 'text/*'], maxBytes: maxUploadBytes, retentionDays: null },
    { name: 'logs', public: false, allowedTypes: text, maxBytes: maxUploadBytes, retentionDays: 30 },
  ];
}

/** Reads `BHIV_SEGMENTS_FILE`: a JSON array of partial SegmentConfig objects that replace the defaults. */
export function loadSegmentsFile(path: string, maxUploadBytes: number): SegmentConfig[] {
  const variable = 'BHIV_SEGMENTS_FILE';
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw configError(variable, 'a readable JSON file', `${path} (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw configError(variable, 'a non-empty JSON array of segments', path);
  const seen = new Set<string>();
  return parsed.map((entry: Record<string, unknown>) => {
    const name = entry?.name;
    if (typeof name !== 'string' || !isValidSegmentName(name) || seen.has(name)) {
      throw configError(variable, 'each segment to have a unique lowercase "name"', JSON.stringify(name));
    }
    seen.add(name);
    const types = entry.allowedTypes ?? null;
    if (types !== null && !(Array.isArray(types) && types.every((t) => typeof t === 'string' && /^[\w.+-]+\/(\*|[\w.+-]+)$/.test(t)))) {
      throw configError(variable, `"allowedTypes" of ${name} to be null or MIME patterns`, JSON.stringify(types));
    }
    const maxBytes = entry.maxBytes ?? maxUploadBytes;
    if (!Number.isSafeInteger(maxBytes) || (maxBytes as number) < 0) throw configError(variable, `"maxBytes" of ${name} to be a byte count`, String(maxBytes));
    // MAX_UPLOAD_SIZE_MB is the largest upload anywhere: a segment may lower it, never raise it.
    if ((maxBytes as number) > maxUploadBytes) {
      throw configError(variable, `"maxBytes" of ${name} to be at most MAX_UPLOAD_SIZE_MB (${maxUploadBytes} bytes)`, String(maxBytes));
    }
    const retention = entry.retentionDays ?? null;
    if (retention !== null && !(Number.isInteger(retention) && (retention as number) > 0)) {
      throw configError(variable, `"retentionDays" of ${name} to be a positive integer or null`, String(retention));
    }
    return { name, public: entry.public === true, allowedTypes: types as string[] | null, maxBytes: maxBytes as number, retentionDays: retention as number | null };
  });
}

/** True when `contentType` (parameters ignored) matches one of the patterns. */
export function typeAllowed(segment: SegmentConfig, contentType: string): boolean {
  if (segment.allowedTypes === null) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return segment.allowedTypes.some((pattern) =>
    pattern.endsWith('/*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern.toLowerCase(),
  );
}
