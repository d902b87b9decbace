import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** A real S3-protocol server started by a test, on 127.0.0.1. */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A bucket created for the tests. */
  bucket: string;
  region: string;
  /** What it is, for test names: `minio` or `ceph`. */
  name: string;
  stop(): Promise<void>;
}

/** A plain SDK client for the test server, set up the way the servers need (path style, no checksum trailers). */
export function rawClient(server: Pick<S3TestServer, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'region'>): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function createBucket(server: Pick<S3TestServer, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'region'>, bucket: string): Promise<void> {
  const client = rawClient(server);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}
