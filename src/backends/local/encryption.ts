import { type CipherGCM, type DecipherGCM, createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { StorageError } from '../../core/errors.js';

/**
 * Encryption at rest for the local backend (BHIV_ENCRYPTION_KEY): AES-256-GCM in 64 KiB chunks,
 * so a range read decrypts only the chunks it touches and every chunk is authenticated.
 *
 * File layout: `BGE1` ‖ 32-byte random salt ‖ chunk₀ ‖ chunk₁ ‖ … where each chunk is its
 * ciphertext (64 KiB, the last one shorter, possibly empty) followed by its 16-byte tag.
 *  - Each file has its own key, HKDF-SHA256(master, salt): files never share a key, so the
 *    96-bit nonces below can never repeat under one key, however many files there are.
 *  - Nonce = salt[0..8] ‖ chunk index (32-bit): distinct for every chunk of a file.
 *  - AAD = `BGE1` ‖ chunk index (64-bit) ‖ final flag: reordering chunks, dropping the tail
 *    (the new last chunk was not sealed as final) or appending anything fails authentication.
 * A file that fails any check is refused with ChecksumMismatch and never served.
 */
export const ENCRYPTION_SCHEME = 'aes-256-gcm-64k-v1';
export const PLAIN_CHUNK = 64 * 1024;
const TAG_BYTES = 16;
const SEALED_CHUNK = PLAIN_CHUNK + TAG_BYTES;
const MAGIC = Buffer.from('BGE1', 'latin1');
const SALT_BYTES = 32;
export const HEADER_BYTES = MAGIC.length + SALT_BYTES;
const MAX_CHUNKS = 2 ** 32;

export function tampered(what = 'the stored file'): StorageError {
  return new StorageError('ChecksumMismatch', `${what} failed its integrity check (encrypted data altered or wrong BHIV_ENCRYPTION_KEY); it is not served`);
}

/** Chunks of a file of `plain` bytes: an empty file still has one (empty, final) chunk. */
export function chunkCount(plain: number): number {
  return Math.max(1, Math.ceil(plain / PLAIN_CHUNK));
}

export function sealedSize(plain: number): number {
  return HEADER_BYTES + chunkCount(plain) * TAG_BYTES + plain;
}

/** The plaintext size a sealed file of `disk` bytes holds, or undefined when no plaintext size fits. */
export function plainSizeOf(disk: number): number | undefined {
  const body = disk - HEADER_BYTES;
  if (body < TAG_BYTES) return undefined;
  const full = Math.floor(body / SEALED_CHUNK);
  const rest = body % SEALED_CHUNK;
  if (rest === 0) return full * PLAIN_CHUNK;
  return rest < TAG_BYTES ? undefined : full * PLAIN_CHUNK + rest - TAG_BYTES;
}

/** Where chunk `index` of a file with `chunks` chunks and `plain` bytes lies on disk. */
export function chunkSpan(index: number, plain: number): { offset: number; length: number } {
  const last = chunkCount(plain) - 1;
  const plainLength = index < last ? PLAIN_CHUNK : plain - last * PLAIN_CHUNK;
  return { offset: HEADER_BYTES + index * SEALED_CHUNK, length: plainLength + TAG_BYTES };
}

interface FileKeys {
  key: Buffer;
  noncePrefix: Buffer;
}

function nonce(keys: FileKeys, index: number): Buffer {
  const n = Buffer.alloc(12);
  keys.noncePrefix.copy(n, 0, 0, 8);
  n.writeUInt32BE(index, 8);
  return n;
}

function aad(index: number, final: boolean): Buffer {
  const a = Buffer.alloc(MAGIC.length + 9);
  MAGIC.copy(a);
  a.writeBigUInt64BE(BigInt(index), MAGIC.length);
  a[MAGIC.length + 8] = final ? 1 : 0;
  return a;
}

/**
 * Holds the master key; derives per-file keys and the sidecar MAC key from it. The keys live in
 * private fields: no `inspect`, `JSON.stringify` or logger that walks the backend prints them.
 */
export class LocalCipher {
  readonly #master: Buffer;
  readonly #sidecarKey: Buffer;
  /** A short public fingerprint of the key: tells a changed key from tampering at start-up. */
  readonly keyId: string;

  constructor(master: Buffer) {
    if (master.length !== 32) throw new StorageError('ConfigInvalid', 'BHIV_ENCRYPTION_KEY: expected 32 bytes');
    this.#master = Buffer.from(master);
    this.#sidecarKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'bucketgate/local/sidecar-mac/v1', 32));
    this.keyId = createHmac('sha256', master).update('bucketgate/local/key-id/v1').digest('hex').slice(0, 16);
  }

  private fileKeys(salt: Buffer): FileKeys {
    return { key: Buffer.from(hkdfSync('sha256', this.#master, salt, 'bucketgate/local/file/v1', 32)), noncePrefix: salt.subarray(0, 8) };
  }

  /** A fresh header and the keys that go with it, for a new file. */
  newFile(): { header: Buffer; keys: FileKeys } {
    const salt = randomBytes(SALT_BYTES);
    return { header: Buffer.concat([MAGIC, salt]), keys: this.fileKeys(salt) };
  }

  /** The keys of an existing file from its header; ChecksumMismatch when it is no file of ours. */
  openHeader(header: Buffer): FileKeys {
    if (header.length < HEADER_BYTES || !header.subarray(0, MAGIC.length).equals(MAGIC)) throw tampered();
    return this.fileKeys(Buffer.from(header.subarray(MAGIC.length, HEADER_BYTES)));
  }

  seal(keys: FileKeys, index: number, final: boolean, plain: Buffer): Buffer {
    if (index >= MAX_CHUNKS) throw new StorageError('TooLarge', 'object is too large to encrypt');
    const cipher = createCipheriv('aes-256-gcm', keys.key, nonce(keys, index)) as CipherGCM;
    cipher.setAAD(aad(index, final));
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  }

  open(keys: FileKeys, index: number, final: boolean, sealed: Buffer): Buffer {
    if (sealed.length < TAG_BYTES) throw tampered();
    try {
      const decipher = createDecipheriv('aes-256-gcm', keys.key, nonce(keys, index)) as DecipherGCM;
      decipher.setAAD(aad(index, final));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw tampered();
    }
  }

  /** MAC of a sidecar's canonical text: a sidecar edited on disk no longer counts. */
  sidecarMac(text: string): string {
    return createHmac('sha256', this.#sidecarKey).update(text, 'utf8').digest('base64url');
  }
}

/**
 * Encrypts a plaintext stream into the sealed layout. One chunk is held back until the next
 * byte (or the end) shows whether it is the final one; memory stays at about one chunk.
 */
export class SealStream extends Transform {
  private readonly file: ReturnType<LocalCipher['newFile']>;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;

  constructor(private readonly cipher: LocalCipher) {
    super();
    this.file = cipher.newFile();
    this.push(this.file.header);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes <= PLAIN_CHUNK) return done();
    try {
      const joined = Buffer.concat(this.pending);
      let at = 0;
      // Only a chunk with more bytes after it is known not to be the last.
      for (; joined.length - at > PLAIN_CHUNK; at += PLAIN_CHUNK) {
        this.push(this.cipher.seal(this.file.keys, this.index++, false, joined.subarray(at, at + PLAIN_CHUNK)));
      }
      this.pending = [joined.subarray(at)];
      this.pendingBytes = joined.length - at;
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.push(this.cipher.seal(this.file.keys, this.index++, true, Buffer.concat(this.pending)));
      this.pending = [];
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}
