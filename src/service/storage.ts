import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { JwtAuthority } from '../auth/jwt.js';
import { Policy } from '../auth/policy.js';
import { loadPolicyFile } from '../auth/policy-file.js';
import { type Principal, SERVICE } from '../auth/principal.js';
import { loadOrCreateSecret } from '../auth/secret.js';
import { RequestSigner } from '../auth/signing.js';
import { MAX_PART_BYTES } from '../backends/local/paths.js';
import { openCatalog } from '../catalog/index.js';
import type { Catalog, CatalogObject, CatalogStats } from '../catalog/types.js';
import { type Config, loadConfig } from '../config/index.js';
import type { Backend } from '../core/backend.js';
import { KeyRules } from '../core/keys.js';
import type { ByteRange, GetResult, PresignedRequest } from '../core/types.js';
import { metricsLayer, registerBackendMetrics } from '../layers/metrics.js';
import { PerformanceRecorder } from '../layers/performance.js';
import { createBackend } from './backend-factory.js';
import { Resilience } from './layers.js';
import type { ServiceContext, StoredObject } from './context.js';
import { type UploadOptions, copyObject, deleteObject, findReadable, listObjects, openForServing, openObject, toReadable, uploadStream } from './objects.js';
import { type ServedObject, SmallObjectCache } from './small-objects.js';
import { encryptionAtRest, healthOf, redactedConfig, visibleStats } from './status.js';
import { type GrantRequest, type UploadGrant, completeDirectUpload, createUploadGrant, uploadWithToken } from './uploads.js';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The small-object cache, with its lookups and its size in /metrics. */
function smallObjectCache(maxBytes: number, registry: Registry): SmallObjectCache {
  const lookups = new Counter({ name: 'bucketgate_small_object_cache_lookups_total', help: 'Reads of small objects, by whether memory held the content', labelNames: ['result'], registers: [registry] });
  const cache = new SmallObjectCache(maxBytes, (found) => lookups.inc({ result: found ? 'hit' : 'miss' }));
  new Gauge({
    name: 'bucketgate_small_object_cache_bytes',
    help: 'Bytes of small objects held in memory',
    registers: [registry],
    collect() {
      this.set(cache.size.bytes);
    },
  });
  return cache;
}

/**
 * The facade that HTTP, CLI and library users all call. Keeps the guide's five operations
 * (camelCased) and adds streaming variants; every call is checked against the policy for
 * its principal (library callers act as the service unless they say otherwise).
 */
export class Storage {
  readonly metrics = new Registry();
  readonly performance = new PerformanceRecorder();
  readonly ctx: ServiceContext;

  constructor(
    readonly config: Config,
    rawBackend: Backend,
    readonly catalog: Catalog,
    readonly jwt: JwtAuthority,
    readonly keys: KeyRules,
    /** Retry, circuit breaker and fallback around the backend (service/layers.ts); `rawBackend` is then its stack. */
    readonly resilience?: Resilience,
    /** Signs download links and binds upload tokens (auth/signing.ts). */
    signer: RequestSigner = new RequestSigner([randomBytes(32)]),
  ) {
    collectDefaultMetrics({ register: this.metrics, prefix: 'bucketgate_' });
    resilience?.register(this.metrics);
    const backend = metricsLayer(registerBackendMetrics(this.metrics), this.performance)(resilience?.backend ?? rawBackend);
    this.ctx = { config, backend, catalog, keys, policy: new Policy(config.segments, loadPolicyFile(config.security.policyFile, config.segments)), signer };
    if (config.smallObjectCacheBytes > 0) this.ctx.smallObjects = smallObjectCache(config.smallObjectCacheBytes, this.metrics);
  }

  get backend(): Backend {
    return this.ctx.backend;
  }

  get policy(): Policy {
    return this.ctx.policy;
  }

  // --- the guide's operations ---------------------------------------------------------

  uploadContent(data: Buffer | Uint8Array | string | Readable, segment: string, filename: string, opts: UploadOptions = {}): Promise<StoredObject> {
    const { body, length } = toReadable(data);
    return uploadStream(this.ctx, segment, filename, body, { contentLength: length, ...opts });
  }

  async downloadContent(segment: string, filename: string, opts: { principal?: Principal } = {}): Promise<Buffer> {
    const { body } = await this.downloadStream(segment, filename, opts);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async listFiles(segment: string, opts: { maxKeys?: number; prefix?: string; cursor?: string; principal?: Principal } = {}): Promise<{ items: StoredObject[]; cursor?: string }> {
    return listObjects(this.ctx, segment, { limit: opts.maxKeys ?? 100, prefix: opts.prefix, cursor: opts.cursor, principal: opts.principal });
  }

  /** Copies an object within the store, under the target segment's type and size rules. */
  copyContent(from: { segment: string; filename: string }, to: { segment: string; filename: string }, opts: { principal?: Principal } = {}): Promise<StoredObject> {
    return copyObject(this.ctx, this.keys.join(from.segment, from.filename), this.keys.join(to.segment, to.filename), opts.principal ?? SERVICE);
  }

  async deleteContent(segment: string, filename: string, opts: { principal?: Principal } = {}): Promise<void> {
    await deleteObject(this.ctx, this.keys.join(segment, filename), opts.principal ?? SERVICE);
  }

  /** A presigned upload: straight to the backend where it can, else the service's token URL. */
  async generatePresignedUploadUrl(filename: string, contentType: string, opts: Partial<GrantRequest> = {}): Promise<UploadGrant & { request: PresignedRequest }> {
    const grant = await this.createUploadGrant({ segment: 'uploads', filename, contentType, principal: SERVICE, ...opts });
    const viaService: PresignedRequest = { method: 'PUT', url: grant.uploadUrl, headers: { 'content-type': grant.contentType }, expiresAt: new Date(grant.expiresAt) };
    return { ...grant, request: grant.direct ?? viaService };
  }

  // --- streaming and id-based variants ------------------------------------------------

  uploadStream(segment: string, filename: string, body: Readable, opts: UploadOptions = {}): Promise<StoredObject> {
    return uploadStream(this.ctx, segment, filename, body, opts);
  }

  async downloadStream(segment: string, filename: string, opts: { range?: ByteRange; principal?: Principal } = {}): Promise<GetResult> {
    const parsed = this.keys.join(segment, filename);
    this.policy.assert(opts.principal ?? SERVICE, 'read', parsed);
    return openObject(this.ctx, parsed.key, opts.range);
  }

  findById(id: string, principal: Principal = SERVICE) {
    return findReadable(this.ctx, id, principal);
  }

  openObject(key: string, range?: ByteRange): Promise<GetResult> {
    return openObject(this.ctx, key, range);
  }

  /** What `row` describes, to serve over HTTP: small objects from memory when cached (small-objects.ts). */
  openForServing(row: CatalogObject, range?: ByteRange): Promise<ServedObject> {
    return openForServing(this.ctx, row, range);
  }

  async deleteById(id: string, principal: Principal = SERVICE): Promise<void> {
    const { parsed } = await findReadable(this.ctx, id, principal);
    await deleteObject(this.ctx, parsed, principal);
  }

  createUploadGrant(req: GrantRequest): Promise<UploadGrant> {
    return createUploadGrant(this.ctx, req);
  }

  uploadWithToken(token: string, body: Readable, opts: { contentType?: string; contentLength?: number; signal?: AbortSignal }): Promise<StoredObject> {
    return uploadWithToken(this.ctx, token, body, opts);
  }

  completeDirectUpload(token: string, expected?: { size?: number }): Promise<StoredObject> {
    return completeDirectUpload(this.ctx, token, expected);
  }

  stats(principal: Principal = SERVICE): Promise<CatalogStats> {
    return visibleStats(this.ctx, principal);
  }

  async status() {
    const [health, catalog, resilience] = await Promise.all([
      healthOf(this.ctx),
      this.catalog.ping().then(
        () => ({ ok: true }),
        () => ({ ok: false }),
      ),
      this.resilience?.status(),
    ]);
    return {
      version: VERSION,
      backend: { kind: this.config.backend, implementation: this.backend.kind, capabilities: this.backend.capabilities, health },
      catalog: { dialect: this.catalog.dialect, ...catalog },
      circuit: resilience?.circuit ?? null,
      fallback: resilience?.fallback ?? { enabled: false, state: 'not configured' },
      encryption: encryptionAtRest(this.ctx),
      policies: Object.fromEntries(this.config.segments.map((s) => [s.name, this.policy.rulesOf(s.name)])),
      // Each segment's upload rules are no secret: every client (the dashboard) shows them.
      segments: this.config.segments.map(({ name, public: isPublic, allowedTypes, maxBytes, retentionDays }) => ({ name, public: isPublic, allowedTypes, maxBytes, retentionDays })),
      config: redactedConfig(this.ctx),
    };
  }

  async close(): Promise<void> {
    await this.resilience?.stop();
    await this.backend.close();
    await this.catalog.close();
  }
}

export interface CreateStorageOptions {
  config?: Config;
  /** Use this backend instead of building one from the configuration. */
  backend?: Backend;
  /**
   * Start background work (fallback sweep and replay): for the long-running service, not one-shot
   * CLI commands. Only then does an outage divert writes to the fallback; otherwise it is reported.
   */
  background?: boolean;
}

/** Builds the service from configuration: backend, catalog, signing secret. */
export async function createStorage(opts: CreateStorageOptions = {}): Promise<Storage & { secretCreated: boolean }> {
  const config = opts.config ?? loadConfig();
  // On local disk a key part is a file name: too long a part is refused as soon as it is named.
  const onDisk = (opts.backend?.kind ?? config.backend) === 'local';
  const keys = new KeyRules(config.segments.map((s) => s.name), onDisk ? { maxPartBytes: MAX_PART_BYTES } : {});
  const backend = opts.backend ?? (await createBackend(config, keys));
  const catalog = await openCatalog(config.databaseUrl);
  const secret = config.jwtSecret
    ? { secret: config.jwtSecret, created: false }
    : await loadOrCreateSecret(join(config.bucketPath, '.bucketgate', 'jwt-secret'));
  const jwt = new JwtAuthority(secret.secret, config.security.jwt);
  const signer = RequestSigner.fromConfig(config.security.signingSecrets, secret.secret);
  const resilience = await Resilience.create(config, backend, catalog);
  if (opts.background) await resilience.start();
  const storage = new Storage(config, backend, catalog, jwt, keys, resilience, signer);
  return Object.assign(storage, { secretCreated: secret.created });
}
