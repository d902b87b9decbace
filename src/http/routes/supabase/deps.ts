import type { Storage } from '../../../service/storage.js';
import type { UrlSigner } from '../../../service/supabase/signing.js';
import type { TusUploads } from '../../../service/supabase/tus.js';

/** What every Supabase-compatible route group is given. */
export interface SupabaseDeps {
  storage: Storage;
  signer: UrlSigner;
  tus: TusUploads;
}

export type ObjectParams = { bucketName: string; '*': string };

export const objectParamsSchema = {
  type: 'object',
  properties: { bucketName: { type: 'string', maxLength: 100 }, '*': { type: 'string' } },
  required: ['bucketName', '*'],
} as const;

export const bucketParamsSchema = {
  type: 'object',
  properties: { bucketName: { type: 'string', maxLength: 100 } },
  required: ['bucketName'],
} as const;

export const TAGS = ['supabase'];
