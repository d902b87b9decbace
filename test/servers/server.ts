import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

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

/**
 * One write, one multipart upload and one delete, so the store creates what it creates lazily
 * (Ceph makes its data pools on the first write: seconds) before a test times anything.
 */
export async function warmUp(server: Pick<S3TestServer, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'region' | 'bucket'>): Promise<void> {
  const client = rawClient(server);
  const Bucket = server.bucket;
  const Key = 'uploads/.bg-warm-up';
  try {
    await client.send(new PutObjectCommand({ Bucket, Key, Body: 'warm' }));
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'part' }));
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    await client.send(new DeleteObjectCommand({ Bucket, Key }));
  } finally {
    client.destroy();
  }
}
