import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import busboy from 'busboy';
import { StorageError } from '../../../core/errors.js';
import { type UserMetadata, normalizeCacheControl, parseMetadataHeader, parseMetadataJson } from '../../../service/supabase/metadata.js';
import { uploadBody } from '../../upload-body.js';

/**
 * An upload as storage-js sends it: either the raw bytes with `content-type`, `cache-control`
 * and `x-metadata` headers, or a multipart form whose `cacheControl`, `metadata` and
 * `contentType` fields come before its one file. Either way the file is streamed, never buffered.
 */
export interface SupabaseUpload {
  body: Readable;
  contentType?: string;
  contentLength?: number;
  cacheControl: string;
  metadata?: UserMetadata;
}

export async function supabaseUploadBody(req: IncomingMessage, limits: { maxBytes: number }): Promise<SupabaseUpload> {
  const type = req.headers['content-type'];
  if (!type || !/^multipart\/form-data/i.test(type)) {
    const metadata = parseMetadataHeader(req.headers['x-metadata']);
    const cacheControl = normalizeCacheControl(req.headers['cache-control']);
    const raw = await uploadBody(req, limits);
    return { body: raw.body, contentType: raw.contentType, contentLength: raw.contentLength, cacheControl, metadata };
  }
  return multipart(req, limits.maxBytes);
}

function multipart(req: IncomingMessage, maxBytes: number): Promise<SupabaseUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fieldSize: 1024 * 1024, parts: 20, headerPairs: 64, fileSize: maxBytes + 1 } });
    } catch {
      reject(new StorageError('InvalidArgument', 'multipart body has no valid boundary'));
      return;
    }
    const fields: Record<string, string> = {};
    let found = false;
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (_name, file, info) => {
      found = true;
      const body = new PassThrough({ highWaterMark: 1 << 20 });
      body.on('error', () => {}); // reported to whoever consumes the body; an unheard error would crash the process
      file.on('error', (err) => body.destroy(new StorageError('InvalidArgument', `multipart body is malformed: ${err.message}`)));
      file.on('limit', () => body.destroy(new StorageError('TooLarge', `file is larger than the limit of ${maxBytes} bytes`)));
      // The body ends only once the whole form has parsed: a second file or a broken trailer fails it before anything is stored.
      file.pipe(body, { end: false });
      parser.on('close', () => {
        if (!body.destroyed) body.end();
      });
      parser.on('filesLimit', () => body.destroy(new StorageError('InvalidArgument', 'multipart body must hold exactly one file')));
      parser.on('error', (err: Error) => body.destroy(new StorageError('InvalidArgument', `multipart body is malformed: ${err.message}`)));
      try {
        const json = fields.metadata ?? fields.userMetadata;
        resolve({
          body,
          contentType: fields.contentType || info.mimeType,
          cacheControl: normalizeCacheControl(fields.cacheControl),
          metadata: json === undefined ? undefined : parseMetadataJson(json, 'metadata field'),
        });
      } catch (err) {
        body.destroy();
        reject(err);
      }
    });
    parser.on('error', (err: Error) => {
      if (!found) reject(new StorageError('InvalidArgument', `multipart body is malformed: ${err.message}`));
    });
    parser.on('close', () => {
      if (!found) reject(new StorageError('InvalidArgument', 'No content provided'));
    });
    req.on('aborted', () => parser.destroy(new Error('client closed the connection')));
    req.pipe(parser);
  });
}
