import { extname } from 'node:path';
import { StorageError } from '../core/errors.js';

const BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp',
  '.svg': 'image/svg+xml', '.avif': 'image/avif', '.mp4': 'video/mp4', '.m4v': 'video/mp4', '.webm': 'video/webm',
  '.mov': 'video/quicktime', '.mkv': 'video/x-matroska', '.mp3': 'audio/mpeg', '.wav': 'audio/wav', '.ogg': 'audio/ogg',
  '.m4a': 'audio/mp4', '.txt': 'text/plain', '.md': 'text/markdown', '.csv': 'text/csv', '.log': 'text/plain',
  '.json': 'application/json', '.ndjson': 'application/x-ndjson', '.jsonl': 'application/x-ndjson',
  '.pdf': 'application/pdf', '.html': 'text/html', '.htm': 'text/html', '.xml': 'application/xml',
  '.js': 'text/javascript', '.zip': 'application/zip',
};

/** A content type from a file name, for uploads that do not declare one. */
export function guessContentType(filename: string): string {
  return BY_EXTENSION[extname(filename).toLowerCase()] ?? 'application/octet-stream';
}

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** Validates a declared content type and returns its bare, lower-case `type/subtype`. */
export function normalizeContentType(raw: string): string {
  const bare = raw.split(';')[0]!.trim().toLowerCase();
  if (!MIME.test(bare)) throw new StorageError('InvalidArgument', `content type ${JSON.stringify(raw.slice(0, 100))} is not a valid MIME type`);
  return bare;
}

/** Types a browser would run as active content if served inline from our origin. */
export function isActiveContent(contentType: string): boolean {
  return /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|text\/javascript|application\/javascript|application\/ecmascript|text\/ecmascript)$/.test(
    contentType.split(';')[0]!.trim().toLowerCase(),
  );
}

/**
 * Types a browser shows passively (media, plain text, PDF in its own viewer): the only ones
 * served inline. Everything else is an attachment under a sandboxing Content-Security-Policy.
 */
export function isInlineSafe(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'image/svg+xml') return false;
  return /^(image|video|audio)\/[a-z0-9.+-]+$/.test(type) || /^(text\/plain|text\/csv|application\/json|application\/pdf)$/.test(type);
}
