import { setTimeout as sleep } from 'node:timers/promises';
import { StorageError, isStorageError } from '../../core/errors.js';
import type { SupabaseClient } from './client.js';

/**
 * The client side of Supabase's resumable uploads (TUS 1.0.0): one POST creates the upload,
 * then PATCHes send fixed-size chunks at their offset. A chunk that fails on the way (network,
 * 5xx) is resumed from the offset the server reports, so a long video upload survives a
 * dropped connection without starting again. A failed upload is terminated on the server.
 */
const TUS = { 'tus-resumable': '1.0.0' };
const RETRIES = 3;

export interface TusRequest {
  bucket: string;
  name: string;
  contentType: string;
  cacheControl?: string;
  /** User metadata, sent as the `metadata` entry (JSON) Supabase reads. */
  metadata?: Record<string, string>;
  upsert: boolean;
  /** Known total length; otherwise the length is sent with the last chunk (creation-defer-length). */
  length?: number;
  chunks: AsyncIterable<{ data: Buffer; last: boolean }>;
  signal?: AbortSignal;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Supabase's TUS endpoint takes cache control as a number of seconds. */
function cacheSeconds(cacheControl: string | undefined): string | undefined {
  return /^max-age=(\d+)$/.exec(cacheControl ?? '')?.[1];
}

export async function tusUpload(client: SupabaseClient, req: TusRequest): Promise<void> {
  const meta = [
    `bucketName ${b64(req.bucket)}`,
    `objectName ${b64(req.name)}`,
    `contentType ${b64(req.contentType)}`,
    ...(cacheSeconds(req.cacheControl) ? [`cacheControl ${b64(cacheSeconds(req.cacheControl)!)}`] : []),
    ...(req.metadata && Object.keys(req.metadata).length > 0 ? [`metadata ${b64(JSON.stringify(req.metadata))}`] : []),
  ].join(',');
  const created = await client.send('POST', '/upload/resumable', 'resumable upload create', {
    headers: {
      ...TUS,
      'upload-metadata': meta,
      'x-upsert': String(req.upsert),
      ...(req.length === undefined ? { 'upload-defer-length': '1' } : { 'upload-length': String(req.length) }),
    },
    signal: req.signal,
  });
  const location = created.headers.get('location');
  if (!location) throw new StorageError('BackendUnavailable', 'Supabase resumable upload create: no Location in the answer');
  const target = new URL(location, client.url('/upload/resumable')).toString();

  let offset = 0;
  try {
    for await (const chunk of req.chunks) {
      const total = chunk.last && req.length === undefined ? offset + chunk.data.length : undefined;
      offset = await patch(client, target, offset, chunk.data, total, req.signal);
    }
  } catch (err) {
    await client.send('DELETE', target, 'resumable upload cancel', { headers: TUS }).catch(() => undefined);
    throw err;
  }
}

async function patch(client: SupabaseClient, target: string, offset: number, data: Buffer, total: number | undefined, signal?: AbortSignal): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await client.send('PATCH', target, 'resumable upload', {
        headers: {
          ...TUS,
          'content-type': 'application/offset+octet-stream',
          'upload-offset': String(offset),
          ...(total === undefined ? {} : { 'upload-length': String(total) }),
        },
        body: data,
        signal,
        stream: true,
      });
      const reached = Number(res.headers.get('upload-offset'));
      if (reached !== offset + data.length) throw new StorageError('BackendUnavailable', `Supabase resumable upload: server is at ${reached}, expected ${offset + data.length}`);
      return reached;
    } catch (err) {
      if (!isStorageError(err) || !err.temporary || attempt >= RETRIES || signal?.aborted) throw err;
      await sleep(250 * 2 ** attempt);
      // Resume from whatever part of the chunk the server kept.
      const head = await client.send('HEAD', target, 'resumable upload offset', { headers: TUS, signal });
      const kept = Number(head.headers.get('upload-offset'));
      if (!Number.isSafeInteger(kept) || kept < offset || kept > offset + data.length) throw err;
      data = data.subarray(kept - offset);
      offset = kept;
      if (data.length === 0 && total === undefined) return offset;
    }
  }
}
