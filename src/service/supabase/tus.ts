import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Principal } from '../../auth/principal.js';
import { StorageError, isStorageError } from '../../core/errors.js';
import { MeasuringStream } from '../../core/streams.js';
import type { ServiceContext } from '../context.js';
import type { UserMetadata } from './metadata.js';
import { headObject, planWrite, writeObject } from './objects.js';

/**
 * The server side of Supabase's resumable uploads (TUS 1.0.0 core, creation, creation-defer-length,
 * termination). Parts are appended to a file in the service's own folder and fsynced before the
 * new offset is acknowledged, so a client cut off mid-PATCH resumes from the last byte that
 * landed. When the last byte arrives the file is streamed into the backend in one atomic put;
 * only then does the object exist. Uploads live on this instance's disk: behind a load balancer,
 * pin `/upload/resumable` to one instance.
 */
export interface TusUpload {
  id: string;
  bucket: string;
  name: string;
  /** Undefined while the client defers the length. */
  length?: number;
  contentType?: string;
  cacheControl: string;
  userMetadata?: UserMetadata;
  upsert: boolean;
  owner: string | null;
  createdAt: number;
}

export interface CreateTusRequest {
  bucket: string;
  name: string;
  length?: number;
  contentType?: string;
  cacheControl: string;
  userMetadata?: UserMetadata;
  upsert: boolean;
}

const EXPIRY_MS = 24 * 3600 * 1000;
const ID = /^[A-Za-z0-9_-]{20,64}$/;

const noSuchUpload = () => new StorageError('NotFound', 'Upload not found', { details: { resource: 'upload' } });

export class TusUploads {
  private readonly busy = new Set<string>();

  private constructor(
    private readonly ctx: ServiceContext,
    private readonly dir: string,
  ) {}

  static async open(ctx: ServiceContext): Promise<TusUploads> {
    const dir = join(ctx.config.bucketPath, '.bucketgate', 'tus');
    await mkdir(dir, { recursive: true });
    return new TusUploads(ctx, dir);
  }

  private paths(id: string) {
    if (!ID.test(id)) throw noSuchUpload();
    return { state: join(this.dir, `${id}.json`), part: join(this.dir, `${id}.part`) };
  }

  async create(principal: Principal, req: CreateTusRequest): Promise<TusUpload> {
    const plan = planWrite(this.ctx, { ...req, principal, owner: principal.sub ?? null, contentLength: req.length });
    if (!req.upsert && (await this.exists(plan.parsed.key))) throw new StorageError('AlreadyExists', 'The resource already exists');
    await this.sweep();
    const upload: TusUpload = { ...req, id: randomBytes(24).toString('base64url'), owner: principal.sub ?? null, createdAt: Date.now() };
    const { state, part } = this.paths(upload.id);
    await writeFile(part, Buffer.alloc(0), { flag: 'wx', mode: 0o600 });
    await writeFile(state, JSON.stringify(upload), { mode: 0o600 });
    // An empty upload is complete once created: clients send no PATCH for it (tus-js-client
    // reports success on the 201), so it is stored now, as Supabase's TUS server does.
    if (upload.length === 0) await this.finish(principal, upload);
    return upload;
  }

  /**
   * The upload, for a caller who may write where it goes: offsets and cancelling are as private
   * as the upload itself (its URL alone does not let anyone see or end it).
   */
  async authorized(principal: Principal, id: string): Promise<{ upload: TusUpload; offset: number }> {
    const found = await this.get(id);
    planWrite(this.ctx, { ...found.upload, principal, contentLength: found.upload.length });
    return found;
  }

  /** Cancels an upload the caller may write; not while a PATCH is writing it. */
  async cancel(principal: Principal, id: string): Promise<void> {
    if (this.busy.has(id)) throw new StorageError('PreconditionFailed', 'another request is writing this upload', { details: { supabaseCode: 'ResourceLocked' } });
    await this.authorized(principal, id);
    await this.remove(id);
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await headObject(this.ctx, key);
      return true;
    } catch (err) {
      if (isStorageError(err, 'NotFound')) return false;
      throw err;
    }
  }

  /** The upload and how many of its bytes are safely on disk. */
  async get(id: string): Promise<{ upload: TusUpload; offset: number }> {
    const { state, part } = this.paths(id);
    let upload: TusUpload;
    let offset: number;
    try {
      upload = JSON.parse(await readFile(state, 'utf8')) as TusUpload;
      offset = (await stat(part)).size;
    } catch {
      throw noSuchUpload();
    }
    if (Date.now() - upload.createdAt > EXPIRY_MS) {
      await this.remove(id);
      throw noSuchUpload();
    }
    return { upload, offset };
  }

  /**
   * Appends one PATCH body at `offset`. Returns the new offset, and the stored object once the
   * upload is complete. Bytes past the declared length (or the bucket's limit) are refused.
   */
  async append(principal: Principal, id: string, req: { offset: number; length?: number; body: Readable }) {
    if (this.busy.has(id)) throw new StorageError('PreconditionFailed', 'another request is writing this upload', { details: { supabaseCode: 'ResourceLocked' } });
    this.busy.add(id);
    try {
      const { upload, offset } = await this.authorized(principal, id);
      const plan = planWrite(this.ctx, { ...upload, principal, contentLength: req.length ?? upload.length });
      if (req.offset !== offset) throw new StorageError('PreconditionFailed', `Upload-Offset is ${req.offset} but the upload is at ${offset}`, { details: { tusConflict: true } });
      if (req.length !== undefined) {
        if (upload.length !== undefined && upload.length !== req.length) throw new StorageError('InvalidArgument', 'Upload-Length cannot change');
        if (req.length < offset) throw new StorageError('InvalidArgument', 'Upload-Length is less than the bytes already received');
        upload.length = req.length;
        await writeFile(this.paths(id).state, JSON.stringify(upload), { mode: 0o600 });
      }
      const limit = Math.min(upload.length ?? Number.POSITIVE_INFINITY, plan.segment.maxBytes);
      const newOffset = await this.write(id, offset, limit, req.body);
      if (upload.length === undefined || newOffset < upload.length) return { offset: newOffset };
      return { offset: newOffset, stored: await this.finish(principal, upload) };
    } finally {
      this.busy.delete(id);
    }
  }

  /** Appends what arrives, keeping every byte that landed even when the body fails half way. */
  private async write(id: string, offset: number, limit: number, body: Readable): Promise<number> {
    // The file is opened before the body flows, so the first error always finds its reader.
    const fh = await open(this.paths(id).part, 'a');
    const measured = new MeasuringStream(limit - offset);
    body.on('error', (err) => measured.destroy(err));
    // A client that goes away mid-body ends nothing: stop there, keeping what landed.
    body.on('close', () => {
      if (!body.readableEnded) measured.destroy(new StorageError('InvalidArgument', 'the body ended before it was complete'));
    });
    body.pipe(measured);
    try {
      for await (const chunk of measured) await fh.write(chunk as Buffer);
    } finally {
      await fh.sync().catch(() => undefined);
      await fh.close();
    }
    return offset + measured.bytes;
  }

  /** Streams the completed file into the backend; the upload is gone afterwards, stored or not. */
  private async finish(principal: Principal, upload: TusUpload) {
    const { part } = this.paths(upload.id);
    try {
      return await writeObject(this.ctx, {
        bucket: upload.bucket,
        name: upload.name,
        body: createReadStream(part),
        contentType: upload.contentType,
        cacheControl: upload.cacheControl,
        userMetadata: upload.userMetadata,
        upsert: upload.upsert,
        principal,
        owner: upload.owner,
        contentLength: upload.length,
      });
    } finally {
      await this.remove(upload.id);
    }
  }

  async remove(id: string): Promise<void> {
    const { state, part } = this.paths(id);
    await rm(part, { force: true });
    await rm(state, { force: true });
  }

  /** Forgets uploads nobody finished within a day. */
  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const id = name.slice(0, -5);
      try {
        const upload = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as TusUpload;
        if (now - upload.createdAt > EXPIRY_MS) await this.remove(id);
      } catch {
        // A half-written state file of a concurrent create; the next sweep looks again.
      }
    }
  }
}
