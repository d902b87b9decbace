import type { Command } from 'commander';
import { createLocalBackend } from '../backends/local/index.js';
import { createS3Backend, minimalIamPolicy, setupS3Bucket } from '../backends/s3/index.js';
import { setupSupabaseBucket, supabaseOptionsFromEnv } from '../backends/supabase/index.js';
import { BACKEND_KINDS, type BackendKind, loadConfig } from '../config/index.js';
import { StorageError } from '../core/errors.js';
import { KeyRules } from '../core/keys.js';
import { s3Options } from '../service/backend-factory.js';
import { printJson, table } from './output.js';

/** The guide's setup_* scripts, idempotent: a second run changes nothing. */
export function registerSetup(program: Command) {
  program
    .command('setup')
    .description('Create the bucket, folders, CORS, lifecycle rules and policies for a backend (idempotent)')
    .option('--backend <name>', 'local | s3 | minio | supabase (default: the configured one)')
    .option('--cors-origin <origin...>', 'origins allowed to upload from a browser (default: PUBLIC_URL)')
    .option('--json', 'print JSON')
    .action(async (opts: { backend?: string; corsOrigin?: string[]; json?: boolean }) => {
      const config = loadConfig();
      const kind = (opts.backend ?? config.backend) as BackendKind;
      if (!(BACKEND_KINDS as readonly string[]).includes(kind)) throw new StorageError('InvalidArgument', `--backend must be one of ${BACKEND_KINDS.join(', ')}`);
      const scoped = { ...config, backend: kind };
      const keys = new KeyRules(config.segments.map((s) => s.name));
      let result: Record<string, unknown>;
      if (kind === 'local') {
        const backend = await createLocalBackend({ root: config.bucketPath, keys });
        await backend.close();
        result = { backend: kind, steps: config.segments.map((s) => ({ step: `folder ${s.name}/`, status: 'ready', detail: `${config.bucketPath}/${s.name}` })) };
      } else if (kind === 's3' || kind === 'minio') {
        const options = s3Options(scoped, keys);
        const backend = await createS3Backend(options);
        const replicationBucket = config.env.S3_REPLICATION_BUCKET;
        const roleArn = config.env.S3_REPLICATION_ROLE_ARN;
        const steps = await setupS3Bucket(backend, {
          segments: config.segments.map((s) => ({ name: s.name, retentionDays: s.retentionDays, public: s.public })),
          corsOrigins: opts.corsOrigin ?? [config.publicUrl],
          replication: replicationBucket && roleArn ? { destinationBucket: replicationBucket, roleArn } : undefined,
        });
        await backend.close();
        result = { backend: kind, steps, iamPolicy: minimalIamPolicy(options.bucket) };
      } else {
        const report = await setupSupabaseBucket(supabaseOptionsFromEnv(config.env), {
          public: false,
          fileSizeLimit: config.maxUploadBytes,
          publicSegments: config.segments.filter((s) => s.public).map((s) => s.name),
        });
        result = { backend: kind, ...report };
      }
      if (opts.json) return printJson(result);
      const steps = (result.steps as { step: string; status: string; detail: string }[] | undefined) ?? [
        { step: `bucket ${String(result.bucket)}`, status: String(result.action), detail: ((result.changes as string[]) ?? []).join('; ') || 'no changes' },
      ];
      console.log(table(steps));
      if (result.iamPolicy) console.log(`\nMinimal IAM policy for these credentials:\n${JSON.stringify(result.iamPolicy, null, 2)}`);
      if (result.policiesSql) console.log(`\nSQL policies (run in the Supabase SQL editor):\n${String(result.policiesSql)}`);
    });
}
