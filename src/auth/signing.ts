import { createHmac, timingSafeEqual } from 'node:crypto';
import { StorageError } from '../core/errors.js';

/**
 * HMAC-SHA256 signatures over a request's method, object key, expiry, maximum size and content
 * type (plus an optional nonce), for signed download links and upload tokens. Two secrets may be
 * active, newest first: the newest signs, both verify, so secrets rotate without breaking links
 * already handed out. Signatures are compared in constant time.
 */
export interface SignedRequest {
  method: 'GET' | 'PUT';
  key: string;
  /** Unix seconds after which the signature is refused. */
  expiresAt: number;
  maxBytes?: number;
  contentType?: string;
  /** Binds a signature to one grant (upload tokens). */
  nonce?: string;
}

/** Without BHIV_SIGNING_SECRETS the signing key is derived from the JWT secret, never the same bytes. */
const DERIVATION_LABEL = 'bucketgate/request-signing/v1';
/** Signed links live at most this long. */
export const MAX_SIGNED_TTL_SECONDS = 7 * 24 * 3600;

/** The exact bytes signed: one field a line; no field can hold a newline (keys refuse control characters). */
function canonical(req: SignedRequest): string {
  for (const value of [req.key, req.contentType ?? '', req.nonce ?? '']) {
    if (/[\r\n]/.test(value)) throw new StorageError('InvalidArgument', 'signed fields may not contain line breaks');
  }
  return ['bucketgate-signature-v1', req.method, req.key, String(req.expiresAt), req.maxBytes === undefined ? '' : String(req.maxBytes), req.contentType ?? '', req.nonce ?? ''].join('\n');
}

export class RequestSigner {
  private readonly keys: Buffer[];

  /** `secrets`: newest first; at most two. */
  constructor(secrets: readonly (string | Buffer)[]) {
    if (secrets.length < 1 || secrets.length > 2) throw new StorageError('ConfigInvalid', 'request signing needs one or two secrets');
    this.keys = secrets.map((s) => Buffer.from(s));
  }

  /** The signer for a deployment: BHIV_SIGNING_SECRETS, or a key derived from the JWT secret. */
  static fromConfig(signingSecrets: readonly string[] | undefined, jwtSecret: string): RequestSigner {
    return new RequestSigner(signingSecrets?.length ? signingSecrets : [createHmac('sha256', jwtSecret).update(DERIVATION_LABEL).digest()]);
  }

  private mac(key: Buffer, req: SignedRequest): Buffer {
    return createHmac('sha256', key).update(canonical(req), 'utf8').digest();
  }

  /** base64url HMAC of the request with the newest secret. */
  sign(req: SignedRequest): string {
    if (!Number.isSafeInteger(req.expiresAt)) throw new StorageError('InvalidArgument', 'expiry must be whole seconds');
    return this.mac(this.keys[0]!, req).toString('base64url');
  }

  /** True when `signature` matches under any active secret; every secret is tried, in constant time each. */
  matches(req: SignedRequest, signature: unknown): boolean {
    if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return false;
    const given = Buffer.from(signature, 'base64url');
    let ok = false;
    for (const key of this.keys) ok = timingSafeEqual(this.mac(key, req), given) || ok;
    return ok;
  }

  /** Throws InvalidToken unless the signature matches and has not expired. */
  verify(req: SignedRequest, signature: unknown, now = Date.now()): void {
    if (!Number.isSafeInteger(req.expiresAt) || !this.matches(req, signature)) throw new StorageError('InvalidToken', 'signature is not valid');
    if (req.expiresAt * 1000 <= now) throw new StorageError('InvalidToken', 'signed link has expired');
  }
}
