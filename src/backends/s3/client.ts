import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3sdk } from './sdk.js';
import type { ResolvedS3Options } from './config.js';

/** The keep-alive agents each client sends on, for requests made beside the SDK (direct-put.ts). */
const agentsOf = new WeakMap<S3Client, { http: HttpAgent; https: HttpsAgent }>();

export function clientAgents(client: S3Client): { http: HttpAgent; https: HttpsAgent } | undefined {
  return agentsOf.get(client);
}

/**
 * One SDK client per backend. Checksums only where S3 requires them: the SDK's default
 * flexible checksums send chunk-encoded trailers that S3-compatible servers differ on (Ceph 16
 * refuses them), and our own SHA-256 already guards every byte we write.
 */
export function createS3Client(opts: ResolvedS3Options): S3Client {
  // The SDK is pinned to its last line for Node 20 (docs/s3.md); its notice that later lines need
  // Node 22 would otherwise print on every CLI run. Setting the variable to anything else keeps it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const agentOptions = { keepAlive: true, maxSockets: 64 };
  const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
  const client = new s3sdk.S3Client({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    forcePathStyle: opts.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: opts.maxAttempts,
    requestHandler: {
      connectionTimeout: opts.connectTimeoutMs,
      // An idle-socket limit, not a whole-request one: a large transfer may take as long as it needs
      // while bytes keep moving; a store that goes silent fails with a TimeoutError.
      socketTimeout: opts.socketTimeoutMs,
      httpAgent: agents.http,
      httpsAgent: agents.https,
    },
  });
  agentsOf.set(client, agents);
  return client;
}
