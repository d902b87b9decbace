import type { CORSRule, LifecycleRule, PublicAccessBlockConfiguration, ReplicationConfiguration, S3Client } from '@aws-sdk/client-s3';
import { s3sdk } from './sdk.js';
import { StorageError } from '../../core/errors.js';
import type { S3Backend } from './backend.js';
import { fromS3Error, s3ErrorName, s3Status } from './errors.js';
import { withContentMd5 } from './integrity-headers.js';

const { CreateBucketCommand, DeleteBucketPolicyCommand, DeleteObjectCommand, DeletePublicAccessBlockCommand, GetBucketCorsCommand, GetBucketLifecycleConfigurationCommand, GetBucketPolicyCommand, GetBucketReplicationCommand, GetBucketVersioningCommand, GetPublicAccessBlockCommand, HeadBucketCommand, PutBucketCorsCommand, PutBucketLifecycleConfigurationCommand, PutBucketPolicyCommand, PutBucketReplicationCommand, PutBucketVersioningCommand, PutObjectCommand, PutPublicAccessBlockCommand } = s3sdk;

export { minimalIamPolicy } from './iam-policy.js';

export interface SetupSegment {
  name: string;
  /** Objects older than this many days are expired by a lifecycle rule. */
  retentionDays?: number | null;
  /** Anyone may read this segment's objects (a bucket policy grants s3:GetObject on it). */
  public?: boolean;
}

export interface SetupOptions {
  segments: readonly SetupSegment[];
  /** Origins allowed to upload from a browser (presigned PUT/POST); none → no CORS rule. */
  corsOrigins?: readonly string[];
  /** Cross-region replication of every object to a second bucket (needs versioning on both). */
  replication?: { destinationBucket: string; roleArn: string; storageClass?: string };
  /** Days after which an unfinished multipart upload is aborted by the store (default 2). */
  abortIncompleteUploadsAfterDays?: number;
}

export type SetupStatus = 'created' | 'unchanged' | 'updated' | 'unsupported';

export interface SetupStep {
  step: string;
  status: SetupStatus;
  detail: string;
}

interface Target {
  client: S3Client;
  bucket: string;
  region: string;
}

/** Our lifecycle rules and policy statements are named so a rerun finds them, and leaves others' alone. */
const OWN = 'bucketgate-';

function isMissing(err: unknown, ...names: string[]): boolean {
  const name = s3ErrorName(err);
  return (name !== undefined && names.includes(name)) || s3Status(err) === 404;
}

function isUnsupported(err: unknown): boolean {
  const name = s3ErrorName(err);
  const status = s3Status(err);
  return status === 501 || status === 405 || name === 'NotImplemented' || name === 'XMinioNotImplemented' || name === 'MethodNotAllowed';
}

/** What a write settled for, when the server took only part of what was asked. */
class Settled {
  constructor(
    readonly detail: string,
    readonly unsupported = false,
  ) {}
}

/** JSON with sorted object keys, so configurations compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/**
 * One step: read the current setting, compare with what we want, write only if different.
 * A server that does not implement the API gets 'unsupported' instead of a failure.
 */
async function step<T>(
  name: string,
  read: () => Promise<T | undefined>,
  want: (current: T | undefined) => { same: boolean; detail: string },
  /** Returns a detail that replaces the planned one when the write had to settle for less. */
  write: () => Promise<unknown>,
  target: Target,
): Promise<SetupStep> {
  try {
    const current = await read();
    const { same, detail } = want(current);
    if (same) return { step: name, status: 'unchanged', detail };
    const written = await write();
    if (written instanceof Settled && written.unsupported) return { step: name, status: 'unsupported', detail: written.detail };
    const actual = written instanceof Settled ? written.detail : detail;
    return { step: name, status: current === undefined ? 'created' : 'updated', detail: actual };
  } catch (err) {
    if (isUnsupported(err)) return { step: name, status: 'unsupported', detail: 'unsupported by this server' };
    throw fromS3Error(err, { op: `setup (${name}) of`, subject: `bucket "${target.bucket}"`, bucket: target.bucket });
  }
}

function corsRules(origins: readonly string[]): CORSRule[] {
  return [
    {
      ID: `${OWN}browser-uploads`,
      AllowedOrigins: [...origins],
      AllowedMethods: ['GET', 'HEAD', 'PUT', 'POST'],
      AllowedHeaders: ['*'],
      ExposeHeaders: ['ETag'],
      MaxAgeSeconds: 3600,
    },
  ];
}

const ABORT_RULE_ID = `${OWN}abort-incomplete-uploads`;

function lifecycleRules(opts: SetupOptions, withAbortRule = true): LifecycleRule[] {
  const rules: LifecycleRule[] = [];
  if (withAbortRule) {
    rules.push({
      ID: ABORT_RULE_ID,
      Status: 'Enabled',
      Filter: { Prefix: '' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: opts.abortIncompleteUploadsAfterDays ?? 2 },
    });
  }
  for (const s of opts.segments) {
    if (s.retentionDays) rules.push({ ID: `${OWN}expire-${s.name}`, Status: 'Enabled', Filter: { Prefix: `${s.name}/` }, Expiration: { Days: s.retentionDays } });
  }
  return rules;
}

/** The parts of a lifecycle rule we set, for comparing with what the store echoes back. */
function ruleShape(r: LifecycleRule) {
  return {
    ID: r.ID,
    Status: r.Status,
    Prefix: r.Filter?.Prefix ?? r.Prefix ?? '',
    Days: r.Expiration?.Days,
    Abort: r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
  };
}

function publicReadStatements(bucket: string, segments: readonly SetupSegment[]) {
  return segments
    .filter((s) => s.public)
    .map((s) => ({ Sid: `${OWN}public-read-${s.name}`, Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/${s.name}/*`] }));
}

/** Writes and removes a probe under a reserved name no listing shows. */
async function writesStillWork(client: S3Client, bucket: string): Promise<boolean> {
  const Key = `uploads/.bg-setup-probe-${Date.now().toString(36)}`;
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'probe' }));
  } catch (err) {
    if (s3ErrorName(err) === 'AccessDenied' || s3Status(err) === 403) return false;
    throw err;
  }
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  return true;
}

type PolicyStatement = { Sid?: string; [k: string]: unknown };

/**
 * Prepares a bucket for the service (the guide's setup_s3_bucket.py / setup_minio_bucket.py):
 * the bucket, CORS for browser uploads, lifecycle rules for segments with a retention period
 * (plus cleanup of abandoned multipart uploads), public access blocked unless a segment is
 * public (which then gets a read-only bucket policy), and optional cross-region replication.
 * Idempotent: each step reads first and writes only what differs, so a second run reports
 * every step 'unchanged' (or 'unsupported' where the server lacks the API).
 */
export async function setupS3Bucket(backendOrTarget: S3Backend | Target, opts: SetupOptions): Promise<SetupStep[]> {
  const target: Target = { client: backendOrTarget.client, bucket: backendOrTarget.bucket, region: backendOrTarget.region };
  const { client, bucket } = target;
  const steps: SetupStep[] = [];
  for (const s of opts.segments) {
    if (s.retentionDays != null && !(Number.isSafeInteger(s.retentionDays) && s.retentionDays > 0)) {
      throw new StorageError('InvalidArgument', `retention of segment ${s.name} must be a whole number of days`);
    }
  }

  steps.push(
    await step(
      'bucket',
      async () => {
        try {
          await client.send(new HeadBucketCommand({ Bucket: bucket }));
          return true;
        } catch (err) {
          if (isMissing(err, 'NoSuchBucket', 'NotFound')) return undefined;
          throw err;
        }
      },
      (exists) => ({ same: exists === true, detail: exists ? `bucket "${bucket}" exists` : `bucket "${bucket}" created in ${target.region}` }),
      () =>
        client.send(
          new CreateBucketCommand({
            Bucket: bucket,
            // us-east-1 is the one region that must not be named.
            ...(target.region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: target.region as never } } : {}),
          }),
        ),
      target,
    ),
  );

  const origins = opts.corsOrigins ?? [];
  if (origins.length > 0) {
    const wanted = corsRules(origins);
    const shape = (rules: CORSRule[]) => rules.map((r) => ({ ...r, ID: undefined, AllowedMethods: [...(r.AllowedMethods ?? [])].sort(), AllowedOrigins: [...(r.AllowedOrigins ?? [])].sort() }));
    steps.push(
      await step(
        'cors',
        async () => {
          try {
            return (await client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? [];
          } catch (err) {
            if (isMissing(err, 'NoSuchCORSConfiguration')) return undefined;
            throw err;
          }
        },
        (current) => ({ same: current !== undefined && canonical(shape(current)) === canonical(shape(wanted)), detail: `browser uploads allowed from ${origins.join(', ')}` }),
        () => client.send(withContentMd5(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: wanted } }))),
        target,
      ),
    );
  }

  // MinIO refuses a rule that only aborts unfinished uploads (it cleans them up by itself):
  // then the rules go without it, and a rerun accepts either form as already done.
  const ours = lifecycleRules(opts);
  const oursWithoutAbort = lifecycleRules(opts, false);
  let others: LifecycleRule[] = [];
  const expiring = opts.segments.filter((s) => s.retentionDays).map((s) => `${s.name} after ${s.retentionDays} days`);
  const expiryText = expiring.length > 0 ? `expire ${expiring.join(', ')}` : 'no segment expires';
  const putRules = (rules: LifecycleRule[]) => client.send(withContentMd5(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [...others, ...rules] } })));
  steps.push(
    await step(
      'lifecycle',
      async () => {
        try {
          const rules = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
          others = rules.filter((r) => !r.ID?.startsWith(OWN));
          return rules.filter((r) => r.ID?.startsWith(OWN));
        } catch (err) {
          if (isMissing(err, 'NoSuchLifecycleConfiguration')) return undefined;
          throw err;
        }
      },
      (current) => {
        const sortById = (rules: LifecycleRule[]) => canonical(rules.map(ruleShape).sort((a, b) => String(a.ID).localeCompare(String(b.ID))));
        const full = current !== undefined && sortById(current) === sortById(ours);
        const partial = current !== undefined && sortById(current) === sortById(oursWithoutAbort);
        const abortText = partial ? "unfinished uploads left to the server's own cleanup" : `unfinished uploads aborted after ${opts.abortIncompleteUploadsAfterDays ?? 2} days`;
        return { same: full || partial, detail: `${expiryText}; ${abortText}` };
      },
      async () => {
        try {
          await putRules(ours);
          return undefined;
        } catch (err) {
          if (s3ErrorName(err) !== 'InvalidArgument' && s3ErrorName(err) !== 'MalformedXML') throw err;
          // Nothing else to set: the step is simply unsupported here (and stays so on a rerun).
          if (oursWithoutAbort.length === 0) return new Settled('unsupported by this server (it refuses a rule that aborts unfinished uploads)', true);
          await putRules(oursWithoutAbort);
          return new Settled(`${expiryText}; unfinished uploads left to the server's own cleanup (it refuses such a rule)`);
        }
      },
      target,
    ),
  );

  const anyPublic = opts.segments.some((s) => s.public);
  const block: PublicAccessBlockConfiguration = anyPublic
    ? // ACLs stay blocked; a bucket policy may grant public reads of the public segments.
      { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false }
    : { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  steps.push(
    await step(
      'public access block',
      async () => {
        try {
          return (await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration;
        } catch (err) {
          if (isMissing(err, 'NoSuchPublicAccessBlockConfiguration')) return undefined;
          throw err;
        }
      },
      (current) => ({ same: current !== undefined && canonical(current) === canonical(block), detail: anyPublic ? 'public ACLs blocked; public segments readable through the bucket policy' : 'all public access blocked' }),
      async () => {
        await client.send(withContentMd5(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: block })));
        // Ceph 16 refuses every write once public ACLs are blocked; a bucket nobody can write
        // to is worse than no block, so the setting is taken back there.
        if (await writesStillWork(client, bucket)) return undefined;
        await client.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
        return new Settled('unsupported by this server: it refuses all writes while public ACLs are blocked, so the block was removed again', true);
      },
      target,
    ),
  );

  const wantedStatements = publicReadStatements(bucket, opts.segments);
  let foreign: PolicyStatement[] = [];
  steps.push(
    await step(
      'public read policy',
      async () => {
        try {
          const text = (await client.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
          const statements: PolicyStatement[] = text ? ((JSON.parse(text) as { Statement?: PolicyStatement[] }).Statement ?? []) : [];
          foreign = statements.filter((s) => !s.Sid?.startsWith(OWN));
          return statements.filter((s) => s.Sid?.startsWith(OWN));
        } catch (err) {
          if (isMissing(err, 'NoSuchBucketPolicy')) return undefined;
          throw err;
        }
      },
      (current) => {
        const norm = (list: PolicyStatement[]) => list.map((s) => canonical(s)).sort();
        const names = opts.segments.filter((s) => s.public).map((s) => s.name);
        return {
          same: canonical(norm(current ?? [])) === canonical(norm(wantedStatements)),
          detail: names.length > 0 ? `anyone may read ${names.join(', ')}` : 'no segment is public',
        };
      },
      () => {
        const statements = [...foreign, ...wantedStatements];
        return statements.length === 0
          ? client.send(new DeleteBucketPolicyCommand({ Bucket: bucket }))
          : client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
      },
      target,
    ),
  );

  if (opts.replication) steps.push(...(await setupReplication(target, opts.replication)));
  return steps;
}

async function setupReplication(target: Target, rep: NonNullable<SetupOptions['replication']>): Promise<SetupStep[]> {
  const { client, bucket } = target;
  const versioning = await step(
    'versioning',
    async () => (await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status ?? undefined,
    (status) => ({ same: status === 'Enabled', detail: 'versioning enabled (replication needs it on both buckets)' }),
    () => client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } })),
    target,
  );
  if (versioning.status === 'unsupported') return [versioning, { step: 'replication', status: 'unsupported', detail: 'unsupported by this server' }];
  const wanted: ReplicationConfiguration = {
    Role: rep.roleArn,
    Rules: [
      {
        ID: `${OWN}replicate-all`,
        Status: 'Enabled',
        Priority: 1,
        Filter: { Prefix: '' },
        DeleteMarkerReplication: { Status: 'Enabled' },
        Destination: { Bucket: `arn:aws:s3:::${rep.destinationBucket}`, ...(rep.storageClass ? { StorageClass: rep.storageClass as never } : {}) },
      },
    ],
  };
  const replication = await replicationStep(target, wanted, rep);
  return [versioning, replication];
}

async function replicationStep(target: Target, wanted: ReplicationConfiguration, rep: NonNullable<SetupOptions['replication']>): Promise<SetupStep> {
  try {
    return await replicationStepInner(target, wanted, rep);
  } catch (err) {
    // MinIO replicates to a "remote target" registered with its admin API, named by its own ARN.
    if (err instanceof StorageError && err.details?.s3Code === 'XMinioAdminRemoteArnInvalid') {
      throw new StorageError('ConfigInvalid', `setup (replication) of bucket "${target.bucket}": MinIO needs the ARN of a remote target (mc admin bucket remote add) as the role ARN`, { details: err.details });
    }
    throw err;
  }
}

async function replicationStepInner(target: Target, wanted: ReplicationConfiguration, rep: NonNullable<SetupOptions['replication']>): Promise<SetupStep> {
  const { client, bucket } = target;
  return step(
    'replication',
    async () => {
      try {
        return (await client.send(new GetBucketReplicationCommand({ Bucket: bucket }))).ReplicationConfiguration;
      } catch (err) {
        if (isMissing(err, 'ReplicationConfigurationNotFoundError')) return undefined;
        throw err;
      }
    },
    (current) => {
      const shape = (c: ReplicationConfiguration | undefined) => ({ Role: c?.Role, Rules: c?.Rules?.map((r) => ({ ID: r.ID, Status: r.Status, Dest: r.Destination?.Bucket, Class: r.Destination?.StorageClass })) });
      return { same: current !== undefined && canonical(shape(current)) === canonical(shape(wanted)), detail: `every object replicated to ${rep.destinationBucket}` };
    },
    () => client.send(withContentMd5(new PutBucketReplicationCommand({ Bucket: bucket, ReplicationConfiguration: wanted }))),
    target,
  );
}
