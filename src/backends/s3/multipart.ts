import { createHash } from 'node:crypto';
import type { CompletedPart, CreateMultipartUploadCommandInput } from '@aws-sdk/client-s3';
import { s3sdk } from './sdk.js';
import { StorageError } from '../../core/errors.js';
import { MAX_PARTS } from './config.js';
import { type S3Context, sseParams } from './context.js';
import { type S3ErrorContext, fromS3Error } from './errors.js';
import { withPayloadSha256 } from './integrity-headers.js';

const { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand, UploadPartCopyCommand } = s3sdk;

/** Runs part uploads with at most `limit` in flight; the first failure is kept and rethrown. */
class PartQueue {
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(private readonly limit: number) {}

  /** Starts `task`; waits while the queue is full (back-pressure on the body). */
  async add(task: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    const running = task().catch((err: unknown) => {
      this.failure ??= err;
    });
    this.inflight.add(running);
    void running.finally(() => this.inflight.delete(running));
    while (this.inflight.size >= this.limit) await Promise.race(this.inflight);
    this.throwIfFailed();
  }

  /** Waits for every part; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.inflight);
    this.throwIfFailed();
  }

  /** Waits for every part, ignoring failures (before an abort, so no part lands after it). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inflight);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

/** S3's ETag of a multipart object: MD5 of the parts' binary MD5s, then `-<count>`. */
export function multipartEtag(parts: readonly CompletedPart[]): string | undefined {
  const md5 = createHash('md5');
  for (const part of parts) {
    const hex = part.ETag?.replace(/"/g, '');
    if (!hex || !/^[0-9a-f]{32}$/i.test(hex)) return undefined;
    md5.update(Buffer.from(hex, 'hex'));
  }
  return `"${md5.digest('hex')}-${parts.length}"`;
}

export interface MultipartStart {
  key: string;
  /** Content type, metadata, cache control… of the object to be (SSE is added here). */
  headers: Omit<CreateMultipartUploadCommandInput, 'Bucket' | 'Key'>;
  signal: AbortSignal | undefined;
}

/**
 * One multipart upload, driven by hand: parts go up as the body streams in, a bounded number
 * at a time, and any failure aborts the upload so no parts are left behind.
 */
export class MultipartUpload {
  private readonly parts: CompletedPart[] = [];
  private readonly queue: PartQueue;
  private nextPart = 1;

  private constructor(
    private readonly ctx: S3Context,
    private readonly key: string,
    private readonly uploadId: string,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.queue = new PartQueue(ctx.opts.queueSize);
  }

  static async start(ctx: S3Context, req: MultipartStart): Promise<MultipartUpload> {
    const errCtx: S3ErrorContext = { op: 'start multipart upload of', subject: req.key, bucket: ctx.bucket };
    try {
      const out = await ctx.client.send(
        new CreateMultipartUploadCommand({ Bucket: ctx.bucket, Key: req.key, ...req.headers, ...sseParams(ctx) }),
        { abortSignal: req.signal },
      );
      if (!out.UploadId) throw new StorageError('BackendUnavailable', `the store gave no upload id for ${req.key}`);
      return new MultipartUpload(ctx, req.key, out.UploadId, req.signal);
    } catch (err) {
      throw fromS3Error(err, errCtx);
    }
  }

  get id(): string {
    return this.uploadId;
  }

  /**
   * Queues one part of the body; resolves once there is room for the next. `release` runs once
   * the part is sent (or failed). `sha256`, the part's hex SHA-256 when the caller hashes it,
   * signs the request (the SDK then does not hash the part again).
   */
  addPart({ body, release, sha256 }: { body: Buffer; release?: () => void; sha256?: Promise<string> }): Promise<void> {
    let started = false;
    return this.queuePart(async (PartNumber) => {
      started = true;
      try {
        const command = new UploadPartCommand({ Bucket: this.ctx.bucket, Key: this.key, UploadId: this.uploadId, PartNumber, Body: body, ContentLength: body.length });
        const out = await this.ctx.client.send(sha256 ? withPayloadSha256(command, await sha256) : command, { abortSignal: this.signal });
        return out.ETag;
      } finally {
        release?.();
      }
    }).catch((err: unknown) => {
      if (!started) release?.(); // refused before it was queued (too many parts, an earlier part failed)
      throw err;
    });
  }

  /** Queues a part copied server-side from bytes start..end of another object. */
  addCopyPart(source: string, sourceEtag: string | undefined, start: number, end: number): Promise<void> {
    return this.queuePart(async (PartNumber) => {
      const out = await this.ctx.client.send(
        new UploadPartCopyCommand({
          Bucket: this.ctx.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          PartNumber,
          CopySource: source,
          CopySourceRange: `bytes=${start}-${end}`,
          ...(sourceEtag ? { CopySourceIfMatch: sourceEtag } : {}),
        }),
        { abortSignal: this.signal },
      );
      return out.CopyPartResult?.ETag;
    });
  }

  private async queuePart(send: (partNumber: number) => Promise<string | undefined>): Promise<void> {
    const partNumber = this.nextPart++;
    if (partNumber > MAX_PARTS) {
      throw new StorageError('TooLarge', `${this.key} needs more than ${MAX_PARTS} parts; raise S3_PART_SIZE_MB`);
    }
    await this.queue.add(async () => {
      try {
        this.parts.push({ PartNumber: partNumber, ETag: await send(partNumber) });
      } catch (err) {
        throw fromS3Error(err, { op: `upload part ${partNumber} of`, subject: this.key, bucket: this.ctx.bucket });
      }
    });
  }

  /** Waits for the parts in flight; call before deciding to complete. */
  async finishParts(): Promise<void> {
    await this.queue.drain();
  }

  /** Makes the object visible. Returns the store's ETag (computed when the store gives none, as Ceph does). */
  async complete(createOnly: boolean): Promise<string | undefined> {
    const parts = [...this.parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    try {
      const out = await this.ctx.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.ctx.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: parts },
          ...(createOnly ? { IfNoneMatch: '*' } : {}),
        }),
        { abortSignal: this.signal },
      );
      return out.ETag || multipartEtag(parts);
    } catch (err) {
      throw fromS3Error(err, { op: 'complete upload of', subject: this.key, bucket: this.ctx.bucket, createOnly });
    }
  }

  /**
   * Gives up: waits for parts in flight (a part landing after the abort would linger), then
   * aborts, trying again once. Never throws: the caller is already failing with the real cause.
   */
  async abort(): Promise<void> {
    await this.queue.settle();
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        // Not tied to the caller's signal: an aborted put must still clean up.
        await this.ctx.client.send(new AbortMultipartUploadCommand({ Bucket: this.ctx.bucket, Key: this.key, UploadId: this.uploadId }));
        return;
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === 'NoSuchUpload') return;
      }
    }
  }
}
