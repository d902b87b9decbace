import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { StorageError } from '../../core/errors.js';
import { resolveRange } from '../../core/range.js';
import type { GetOptions, GetResult, ObjectInfo } from '../../core/types.js';
import { type SupabaseClient, encodeName } from './client.js';
import { infoFromJson } from './metadata.js';

/**
 * Reads: `head` is Supabase's object info (it carries the user metadata and our checksum);
 * `get` asks info first, then downloads with the Range header resolved against its size, and
 * checks the download's ETag against the info's so the bytes and the info describe one
 * version — a concurrent overwrite in between makes it look again.
 */
const ATTEMPTS = 3;

export async function headObject(client: SupabaseClient, bucket: string, key: string): Promise<ObjectInfo> {
  return infoFromJson(key, await client.json('GET', `/object/info/authenticated/${encodeName(bucket)}/${encodeName(key)}`, 'info'));
}

export async function getObject(client: SupabaseClient, bucket: string, key: string, opts: GetOptions): Promise<GetResult> {
  for (let attempt = 1; ; attempt++) {
    const info = await headObject(client, bucket, key);
    const range = opts.range ? resolveRange(opts.range, info.size) : undefined;
    const res = await client.send('GET', `/object/authenticated/${encodeName(bucket)}/${encodeName(key)}`, 'download', {
      headers: range ? { range: `bytes=${range.start}-${range.end}` } : {},
      signal: opts.signal,
      stream: true,
    });
    const etag = res.headers.get('etag');
    if (etag !== null && etag !== info.etag) {
      await res.body?.cancel();
      if (attempt < ATTEMPTS) continue;
      throw new StorageError('BackendUnavailable', `Supabase download: ${key} changed during each of ${ATTEMPTS} reads`);
    }
    if (range && res.status !== 206 && !(range.start === 0 && range.end === info.size - 1)) {
      await res.body?.cancel();
      throw new StorageError('BackendUnavailable', 'Supabase download: the server ignored the Range header');
    }
    const body = res.body ? Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>) : Readable.from([]);
    return range ? { info, body, range } : { info, body };
  }
}
