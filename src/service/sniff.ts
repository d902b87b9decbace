import { type Readable, Transform, type TransformCallback, pipeline } from 'node:stream';
import type { Backend } from '../core/backend.js';
import { StorageError } from '../core/errors.js';

/**
 * Magic-byte checks for segments with a type allow-list: the first bytes of an upload must
 * look like the type it declares, so a segment that allows `image/*` cannot be used to host an
 * HTML page or an executable under an image's name. Checked in the upload stream itself: the
 * first ≤ 4 KiB are held back, judged, then everything passes through unbuffered.
 */
export const SNIFF_BYTES = 4096;

type Rule = (head: Buffer, complete: boolean) => boolean;

const ascii = (head: Buffer, at: number, text: string) => head.length >= at + text.length && head.toString('latin1', at, at + text.length) === text;
const bytes = (head: Buffer, at: number, values: number[]) => head.length >= at + values.length && values.every((v, i) => head[at + i] === v);

/** Text: valid UTF-8 (a sequence cut at the window's end is fine), no NUL bytes. */
function isText(head: Buffer, complete: boolean): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/** The first character that is not a BOM or whitespace. */
function firstChar(head: Buffer): string {
  return head.toString('utf8').replace(/^\uFEFF/, '').trimStart().charAt(0);
}

const isoBmff: Rule = (h) => ['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot'].some((box) => ascii(h, 4, box));
const ebml: Rule = (h) => bytes(h, 0, [0x1a, 0x45, 0xdf, 0xa3]);
const json: Rule = (h, c) => isText(h, c) && (firstChar(h) === '' ? h.length === 0 || c : /^[[{"\-0-9tfn]$/.test(firstChar(h)));
const markup: Rule = (h, c) => isText(h, c) && (firstChar(h) === '<' || (firstChar(h) === '' && c));

const RULES: Record<string, Rule> = {
  'image/png': (h) => bytes(h, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  'image/jpeg': (h) => bytes(h, 0, [0xff, 0xd8, 0xff]),
  'image/gif': (h) => ascii(h, 0, 'GIF87a') || ascii(h, 0, 'GIF89a'),
  'image/webp': (h) => ascii(h, 0, 'RIFF') && ascii(h, 8, 'WEBP'),
  'image/avif': isoBmff,
  'image/heic': isoBmff,
  'image/bmp': (h) => ascii(h, 0, 'BM'),
  'image/tiff': (h) => bytes(h, 0, [0x49, 0x49, 0x2a, 0x00]) || bytes(h, 0, [0x4d, 0x4d, 0x00, 0x2a]),
  'image/x-icon': (h) => bytes(h, 0, [0, 0, 1, 0]),
  'image/svg+xml': markup,
  'video/mp4': isoBmff,
  'video/quicktime': isoBmff,
  'video/3gpp': isoBmff,
  'audio/mp4': isoBmff,
  'audio/x-m4a': isoBmff,
  'video/webm': ebml,
  'audio/webm': ebml,
  'video/x-matroska': ebml,
  'audio/mpeg': (h) => ascii(h, 0, 'ID3') || (h.length >= 2 && h[0] === 0xff && (h[1]! & 0xe0) === 0xe0),
  'audio/wav': (h) => ascii(h, 0, 'RIFF') && ascii(h, 8, 'WAVE'),
  'audio/ogg': (h) => ascii(h, 0, 'OggS'),
  'audio/flac': (h) => ascii(h, 0, 'fLaC'),
  'application/pdf': (h) => h.subarray(0, 1024).includes('%PDF-'),
  'application/zip': (h) => bytes(h, 0, [0x50, 0x4b, 0x03, 0x04]) || bytes(h, 0, [0x50, 0x4b, 0x05, 0x06]),
  'application/gzip': (h) => bytes(h, 0, [0x1f, 0x8b]),
  'application/json': json,
  'application/x-ndjson': json,
  'application/xml': markup,
};

const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg', 'image/heif': 'image/heic', 'image/vnd.microsoft.icon': 'image/x-icon',
  'audio/mp3': 'audio/mpeg', 'audio/x-wav': 'audio/wav', 'audio/wave': 'audio/wav', 'audio/vnd.wave': 'audio/wav',
  'video/ogg': 'audio/ogg', 'application/ogg': 'audio/ogg', 'audio/opus': 'audio/ogg', 'audio/x-matroska': 'video/x-matroska',
  'video/x-m4v': 'video/mp4', 'audio/x-flac': 'audio/flac', 'application/x-gzip': 'application/gzip', 'text/xml': 'application/xml',
};

/** Markup a browser would render: never accepted under a type that has no rule of its own. */
const ACTIVE_MARKUP = /^(<!doctype\s+html|<html|<head|<body|<script|<iframe|<svg|<\?xml|<!--)/i;

function ruleFor(contentType: string): Rule {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const rule = RULES[ALIASES[type] ?? type];
  if (rule) return rule;
  if (type.endsWith('+json')) return json;
  if (type.endsWith('+xml')) return markup;
  if (type.startsWith('text/')) return isText;
  return (h) => !ACTIVE_MARKUP.test(h.toString('utf8').replace(/^\uFEFF/, '').trimStart().slice(0, 32));
}

/** Whether the first bytes of a body (`complete`: the whole body) fit its declared type. An empty body fits any type. */
export function contentMatches(contentType: string, head: Buffer, complete: boolean): boolean {
  if (head.length === 0) return true;
  return ruleFor(contentType)(head.subarray(0, SNIFF_BYTES), complete);
}

function mismatch(contentType: string): StorageError {
  return new StorageError('UnsupportedType', `the content does not look like ${contentType.split(';')[0]}`);
}

/** Holds back the first bytes, judges them, then passes everything through as it comes. */
export class SniffStream extends Transform {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private judged = false;

  constructor(private readonly contentType: string) {
    super();
  }

  private judge(complete: boolean): Error | undefined {
    this.judged = true;
    const head = Buffer.concat(this.held);
    this.held = [];
    if (!contentMatches(this.contentType, head, complete)) return mismatch(this.contentType);
    if (head.length > 0) this.push(head);
    return undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.judged) return done(null, chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    done(this.heldBytes >= SNIFF_BYTES ? this.judge(false) : undefined);
  }

  override _flush(done: TransformCallback): void {
    done(this.judged ? undefined : this.judge(true));
  }
}

/** The body as the backend should read it: checked against its declared type where the segment has an allow-list. */
export function guardContent(segment: { allowedTypes: string[] | null }, contentType: string, body: Readable): Readable {
  if (segment.allowedTypes === null) return body;
  const sniff = new SniffStream(contentType);
  // pipeline carries failures both ways: a failing body fails the sniffer, a refused one stops the body.
  return pipeline(body, sniff, () => undefined);
}

/** For copies and moves into an allow-listed segment: judges the first bytes of an object already stored. */
export async function checkStoredContent(backend: Backend, segment: { allowedTypes: string[] | null }, info: { key: string; size: number; contentType: string }): Promise<void> {
  if (segment.allowedTypes === null || info.size === 0) return;
  const { body } = await backend.get(info.key, { range: { start: 0, end: SNIFF_BYTES - 1 } });
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  if (!contentMatches(info.contentType, Buffer.concat(chunks), info.size <= SNIFF_BYTES)) throw mismatch(info.contentType);
}
