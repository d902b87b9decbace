import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { rawClient, type S3TestServer } from '../../servers/server.js';

export interface CurlResult {
  status: number;
  body: Buffer;
}

/** Plain `curl`, as a client outside this project would send the request. */
export function curl(args: readonly string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...args], { encoding: 'buffer', maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${stderr.toString() || err.message}`));
      const text = stdout as Buffer;
      const nl = text.lastIndexOf(0x0a);
      resolve({ status: Number(text.subarray(nl + 1).toString()), body: text.subarray(0, nl) });
    });
  });
}

/** `rclone` against the test server, configured only through environment variables. */
export async function rclone(server: S3TestServer, args: readonly string[]): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'bucketgate-rclone-'));
  const config = join(dir, 'rclone.conf');
  await writeFile(config, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RCLONE_CONFIG: config,
    RCLONE_CONFIG_BG_TYPE: 's3',
    RCLONE_CONFIG_BG_PROVIDER: server.name === 'minio' ? 'Minio' : 'Ceph',
    RCLONE_CONFIG_BG_ACCESS_KEY_ID: server.accessKeyId,
    RCLONE_CONFIG_BG_SECRET_ACCESS_KEY: server.secretAccessKey,
    RCLONE_CONFIG_BG_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_BG_REGION: server.region,
    RCLONE_CONFIG_BG_FORCE_PATH_STYLE: 'true',
  };
  delete env.AWS_CA_BUNDLE;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      execFile('rclone', [...args], { env, encoding: 'buffer', maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`rclone ${args.join(' ')} failed: ${stderr.toString() || err.message}`));
        else resolve(stdout as Buffer);
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Multipart uploads the server still holds under `prefix` (should be none after any failure). */
export async function openUploads(server: S3TestServer, prefix: string): Promise<string[]> {
  const client = rawClient(server);
  try {
    const out = await client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: prefix }));
    return (out.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`);
  } finally {
    client.destroy();
  }
}

let recorders = 0;

/** Records the SDK commands a client sends (to prove which S3 calls an operation made). */
export function recordCommands(client: { middlewareStack: { add: (...args: never[]) => void } }): string[] {
  const seen: string[] = [];
  const add = client.middlewareStack.add as unknown as (
    mw: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>,
    opts: { step: 'initialize'; name: string },
  ) => void;
  add.call(
    client.middlewareStack,
    (next, context) => async (args) => {
      if (context.commandName) seen.push(context.commandName.replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: `bucketgateTestRecorder${++recorders}` },
  );
  return seen;
}

/**
 * Flips one byte of the body of every `commandName` request after it was signed, just before
 * it is sent (the deserialize step wraps the transport): what a corrupting hop would do.
 */
export function corruptAfterSigning(client: { middlewareStack: { add: (...args: never[]) => void } }, commandName: string): void {
  const add = client.middlewareStack.add as unknown as (
    mw: (next: (args: { request: { body?: unknown } }) => Promise<unknown>, context: { commandName?: string }) => (args: { request: { body?: unknown } }) => Promise<unknown>,
    opts: { step: 'deserialize'; name: string },
  ) => void;
  add.call(
    client.middlewareStack,
    (next, context) => async (args) => {
      const body = args.request.body;
      if (context.commandName === commandName && body instanceof Uint8Array && body.length > 0) {
        const copy = Buffer.from(body);
        copy[copy.length >> 1]! ^= 0xff;
        args.request.body = copy;
      }
      return next(args);
    },
    { step: 'deserialize', name: `bucketgateTestCorrupter${++recorders}` },
  );
}
