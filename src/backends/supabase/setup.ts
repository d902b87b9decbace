import { isStorageError } from '../../core/errors.js';
import type { SupabaseClient } from './client.js';
import { encodeName } from './client.js';
import { supabaseClient } from './connect.js';
import type { SupabaseBackendOptions } from './options.js';

/**
 * The guide's `setup_supabase_storage.py` / `setup_supabase_bucket.py`: make sure the bucket
 * exists with the wanted visibility, size limit and MIME types — creating or updating it only
 * when needed, so running it twice changes nothing — and print the SQL policies the guide asks
 * for (the Storage API cannot create policies; paste them into the SQL editor).
 */
export interface BucketSetup {
  /** Default false (private). */
  public?: boolean;
  /** Bytes; null for no limit; undefined leaves an existing bucket's limit alone. */
  fileSizeLimit?: number | null;
  /** Such as `['video/*', 'image/png']`; null for any; undefined leaves an existing bucket's list alone. */
  allowedMimeTypes?: string[] | null;
  /** Segments anyone may read (adds a public SELECT policy for their folders). */
  publicSegments?: string[];
}

export interface BucketSettings {
  public: boolean;
  file_size_limit: number | null;
  allowed_mime_types: string[] | null;
}

export interface SetupReport {
  bucket: string;
  action: 'created' | 'updated' | 'unchanged';
  settings: BucketSettings;
  /** What differed before an update, in plain words. */
  changes: string[];
  policiesSql: string;
}

async function readBucket(client: SupabaseClient, bucket: string): Promise<BucketSettings | undefined> {
  try {
    const b = await client.json<Partial<BucketSettings>>('GET', `/bucket/${encodeName(bucket)}`, 'get bucket');
    return { public: b.public === true, file_size_limit: b.file_size_limit ?? null, allowed_mime_types: b.allowed_mime_types?.length ? b.allowed_mime_types : null };
  } catch (err) {
    if (isStorageError(err, 'NotFound')) return undefined;
    throw err;
  }
}

function differences(have: BucketSettings, want: BucketSetup): string[] {
  const changes: string[] = [];
  const wantPublic = want.public ?? false;
  if (have.public !== wantPublic) changes.push(`make it ${wantPublic ? 'public' : 'private'}`);
  if (want.fileSizeLimit !== undefined && want.fileSizeLimit !== have.file_size_limit) changes.push(`set the size limit to ${want.fileSizeLimit ?? 'none'}`);
  if (want.allowedMimeTypes !== undefined) {
    const norm = (t: string[] | null) => JSON.stringify(t && t.length ? [...t].sort() : null);
    if (norm(want.allowedMimeTypes) !== norm(have.allowed_mime_types)) changes.push(`allow ${want.allowedMimeTypes?.join(', ') ?? 'any type'}`);
  }
  return changes;
}

export async function setupSupabaseBucket(opts: SupabaseBackendOptions, want: BucketSetup = {}): Promise<SetupReport> {
  const client = supabaseClient(opts, 'service_role');
  const bucket = opts.bucket;
  const policiesSql = supabasePoliciesSql(bucket, { publicSegments: want.publicSegments });
  const body = {
    public: want.public ?? false,
    ...(want.fileSizeLimit !== undefined ? { file_size_limit: want.fileSizeLimit } : {}),
    ...(want.allowedMimeTypes !== undefined ? { allowed_mime_types: want.allowedMimeTypes } : {}),
  };
  let have = await readBucket(client, bucket);
  if (!have) {
    try {
      await client.json('POST', '/bucket', 'create bucket', { json: { id: bucket, name: bucket, ...body } });
      return { bucket, action: 'created', settings: (await readBucket(client, bucket)) ?? { public: body.public, file_size_limit: null, allowed_mime_types: null }, changes: [], policiesSql };
    } catch (err) {
      // Someone created it meanwhile: carry on as for an existing bucket.
      if (!isStorageError(err, 'AlreadyExists')) throw err;
      have = await readBucket(client, bucket);
      if (!have) throw err;
    }
  }
  const changes = differences(have, want);
  if (changes.length === 0) return { bucket, action: 'unchanged', settings: have, changes, policiesSql };
  await client.json('PUT', `/bucket/${encodeName(bucket)}`, 'update bucket', { json: { id: bucket, name: bucket, ...body } });
  return { bucket, action: 'updated', settings: (await readBucket(client, bucket)) ?? have, changes, policiesSql };
}

const sqlString = (text: string) => `'${text.replace(/'/g, "''")}'`;
const sqlName = (text: string) => `"${text.replace(/"/g, '""')}"`;

/**
 * The guide's two policies ("Allow authenticated uploads", "Allow user file access"), scoped to
 * the bucket and to bucketgate's layout — `<segment>/<user id>/<file>`, so a user's folder is the
 * second path element, not the first — plus delete/update of one's own files, which bucketgate's
 * Policy also allows. The service_role key bypasses all of them.
 */
export function supabasePoliciesSql(bucket: string, opts: { publicSegments?: string[] } = {}): string {
  const b = sqlString(bucket);
  const own = `bucket_id = ${b} AND (storage.foldername(name))[2] = auth.uid()::text`;
  const lines = [
    `-- Storage policies for bucket ${bucket} (run in the Supabase SQL editor).`,
    '-- bucketgate keeps objects as <segment>/<user id>/<file>: the user folder is foldername(name)[2].',
    '',
    '-- Allow authenticated uploads (into the uploader\'s own folder)',
    `CREATE POLICY ${sqlName(`Allow authenticated uploads (${bucket})`)} ON storage.objects`,
    `FOR INSERT TO authenticated WITH CHECK (auth.role() = 'authenticated' AND ${own});`,
    '',
    '-- Allow users to access their own files',
    `CREATE POLICY ${sqlName(`Allow user file access (${bucket})`)} ON storage.objects`,
    `FOR SELECT TO authenticated USING (${own});`,
    '',
    '-- Allow users to replace and delete their own files',
    `CREATE POLICY ${sqlName(`Allow user file update (${bucket})`)} ON storage.objects`,
    `FOR UPDATE TO authenticated USING (${own});`,
    `CREATE POLICY ${sqlName(`Allow user file delete (${bucket})`)} ON storage.objects`,
    `FOR DELETE TO authenticated USING (${own});`,
  ];
  if (opts.publicSegments?.length) {
    const list = opts.publicSegments.map(sqlString).join(', ');
    lines.push(
      '',
      '-- Public segments are readable by anyone',
      `CREATE POLICY ${sqlName(`Public segments readable (${bucket})`)} ON storage.objects`,
      `FOR SELECT TO anon, authenticated USING (bucket_id = ${b} AND (storage.foldername(name))[1] IN (${list}));`,
    );
  }
  return `${lines.join('\n')}\n`;
}
