import type { Readable } from 'node:stream';
import type {
  CopyOptions,
  DeleteManyResult,
  GetOptions,
  GetResult,
  HealthReport,
  ListOptions,
  ListPage,
  ObjectInfo,
  PresignedRequest,
  PresignOptions,
  PutOptions,
} from './types.js';

/** What a backend does natively. Calls it cannot serve are refused with `Unsupported` before any I/O. */
export interface Capabilities {
  /** `presign({ method: 'GET' | 'PUT' })` gives a URL the client can use without the service. */
  presign: boolean;
  /** `presign({ method: 'POST' })` gives a browser form upload with size and type conditions. */
  presignPost: boolean;
  /**
   * A presign's `grant` marker is signed into the request: an upload without it is refused by the
   * store, and `head` reports it as `grant`. So a completion can tell an upload of its own grant
   * from any other object at the key, whatever the clocks say.
   */
  presignGrant: boolean;
  /** Large bodies are sent in parts. */
  multipart: boolean;
  /** The store encrypts at rest (S3 SSE, local encryption). */
  serverSideEncryption: boolean;
  /** Objects in public segments have a public URL. */
  publicUrls: boolean;
  /** `put` with `ifNoneMatch: '*'` is atomic in the store itself. */
  conditionalWrite: boolean;
  /** `move` is a single atomic step (rename) rather than copy + delete. */
  atomicMove: boolean;
}

/**
 * The storage contract every backend fulfils (DESIGN §2). Keys are full object keys
 * (`segment/path`), checked by `core/keys`. Every method throws StorageError.
 */
export interface Backend {
  /** `local`, `s3` or `supabase`, plus anything a layer adds. */
  readonly kind: string;
  readonly capabilities: Capabilities;

  /** Streams `body` into `key`; never buffers it whole. Nothing is stored unless the whole body arrived. */
  put(key: string, body: Readable, opts?: PutOptions): Promise<ObjectInfo>;
  /** Opens the object (or the range of it) for reading. NotFound if absent. */
  get(key: string, opts?: GetOptions): Promise<GetResult>;
  /** NotFound if absent. */
  head(key: string): Promise<ObjectInfo>;
  /** Idempotent: deleting an absent key succeeds. */
  delete(key: string): Promise<void>;
  deleteMany(keys: readonly string[]): Promise<DeleteManyResult>;
  /** Keys starting with `prefix`, sorted by their UTF-8 bytes, paged by cursor. */
  list(prefix: string, opts?: ListOptions): Promise<ListPage>;
  /** Copies content, content type and metadata. */
  copy(from: string, to: string, opts?: CopyOptions): Promise<ObjectInfo>;
  move(from: string, to: string, opts?: CopyOptions): Promise<ObjectInfo>;
  /** Only where `capabilities.presign` (or `presignPost` for POST); otherwise Unsupported. */
  presign(key: string, opts: PresignOptions): Promise<PresignedRequest>;
  /** A real round trip to the store; throws BackendUnavailable when it cannot be reached. */
  health(): Promise<HealthReport>;
  close(): Promise<void>;
}

export const NO_CAPABILITIES: Capabilities = Object.freeze({
  presign: false,
  presignPost: false,
  presignGrant: false,
  multipart: false,
  serverSideEncryption: false,
  publicUrls: false,
  conditionalWrite: false,
  atomicMove: false,
});
