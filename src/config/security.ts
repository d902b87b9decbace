import { type Env, configError, readNumber, readString, readUrl } from './parse.js';

/**
 * The security settings (docs/security.md describes each one). Parsed with the rest of the
 * configuration so a wrong value stops start-up with one line naming the variable.
 */
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface SecurityConfig {
  jwt: {
    /** RS256/ES256 keys published at this URL (JWKS), fetched and cached by jose. */
    jwksUrl: string | undefined;
    /** RS256/ES256 public key (PEM: SPKI or certificate). */
    publicKeyFile: string | undefined;
    /** Accepted `aud` values of signed-in users' tokens. */
    audiences: string[];
    /** Required `iss`, when set. */
    issuer: string | undefined;
    clockSkewSeconds: number;
    /** Algorithms accepted; HS256 uses JWT_SECRET (or the generated secret). */
    algorithms: JwtAlgorithm[];
  };
  /** JSON file of per-segment policy overrides (src/auth/policy-file.ts). */
  policyFile: string | undefined;
  /** HMAC secrets for signed URLs and upload tokens, newest first; undefined: derived from the JWT secret. */
  signingSecrets: string[] | undefined;
  /** 32-byte key for encryption at rest on the local backend. */
  encryptionKey: Buffer | undefined;
  /** Requests per minute per user (or per address when anonymous); 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** A client silent this long (headers or body) is cut off. */
  idleTimeoutMs: number;
  /** All request headers must have arrived within this. */
  headersTimeoutMs: number;
  /** A whole request (body included) must have arrived within this; 0: no limit (large uploads). */
  requestTimeoutMs: number;
  /** Behind a proxy: take the client address from X-Forwarded-For (true, or the proxies' addresses). */
  trustProxy: boolean | string;
  /** When set, GET /metrics answers only `Authorization: Bearer <this>` (or a service_role token). */
  metricsToken: string | undefined;
}

const MIN_SECRET_BYTES = 32;

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return items.length > 0 ? items : undefined;
}

/** 32 bytes as 64 hex digits or base64 (standard or url-safe). */
export function parseEncryptionKey(raw: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(raw)) {
    const key = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  return undefined;
}

function readAlgorithms(env: Env, asymmetric: boolean): JwtAlgorithm[] {
  const names = list(readString(env, 'JWT_ALGORITHMS'));
  if (!names) return asymmetric ? ['HS256', 'RS256', 'ES256'] : ['HS256'];
  for (const name of names) {
    if (!(JWT_ALGORITHMS as readonly string[]).includes(name)) throw configError('JWT_ALGORITHMS', `a list of ${JWT_ALGORITHMS.join(', ')}`, names.join(','));
  }
  const algorithms = [...new Set(names)] as JwtAlgorithm[];
  if (!asymmetric && algorithms.some((a) => a !== 'HS256')) {
    throw configError('JWT_ALGORITHMS', 'RS256/ES256 only together with JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE', names.join(','));
  }
  return algorithms;
}

function readTrustProxy(env: Env): boolean | string {
  const value = readString(env, 'BHIV_TRUST_PROXY');
  if (value === undefined || /^(false|0|no|off)$/i.test(value)) return false;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^[0-9a-fA-F:.,/\s]+$/.test(value)) return value;
  throw configError('BHIV_TRUST_PROXY', 'true, false or comma-separated proxy addresses (CIDR allowed)', value);
}

export function loadSecurityConfig(env: Env): SecurityConfig {
  const jwksUrl = readUrl(env, 'JWT_JWKS_URL');
  const publicKeyFile = readString(env, 'JWT_PUBLIC_KEY_FILE');
  const asymmetric = jwksUrl !== undefined || publicKeyFile !== undefined;
  const signingSecrets = list(readString(env, 'BHIV_SIGNING_SECRETS'));
  if (signingSecrets && (signingSecrets.length > 2 || signingSecrets.some((s) => Buffer.byteLength(s) < MIN_SECRET_BYTES))) {
    throw configError('BHIV_SIGNING_SECRETS', `one or two comma-separated secrets (new,old) of at least ${MIN_SECRET_BYTES} bytes each`, '(redacted)');
  }
  const rawKey = readString(env, 'BHIV_ENCRYPTION_KEY');
  const encryptionKey = rawKey === undefined ? undefined : parseEncryptionKey(rawKey);
  if (rawKey !== undefined && !encryptionKey) throw configError('BHIV_ENCRYPTION_KEY', '32 bytes as 64 hex digits or base64', '(redacted)');
  const metricsToken = readString(env, 'BHIV_METRICS_TOKEN');
  // The same characters a bearer token may hold (src/http/auth.ts), and long enough not to be guessed.
  if (metricsToken !== undefined && (!/^[A-Za-z0-9_\-.]+$/.test(metricsToken) || Buffer.byteLength(metricsToken) < MIN_SECRET_BYTES)) {
    throw configError('BHIV_METRICS_TOKEN', `at least ${MIN_SECRET_BYTES} characters of A-Z a-z 0-9 _ - .`, '(redacted)');
  }
  const idleTimeoutMs = readNumber(env, 'BHIV_IDLE_TIMEOUT_MS', 30_000, { min: 100, max: 3_600_000, integer: true });
  const requestTimeoutMs = readNumber(env, 'BHIV_REQUEST_TIMEOUT_MS', 0, { min: 0, max: 24 * 3_600_000, integer: true });
  const headersTimeoutMs = readNumber(env, 'BHIV_HEADERS_TIMEOUT_MS', Math.min(idleTimeoutMs, 60_000), { min: 100, max: 600_000, integer: true });
  if (requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) {
    throw configError('BHIV_HEADERS_TIMEOUT_MS', `at most BHIV_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`, String(headersTimeoutMs));
  }
  return {
    jwt: {
      jwksUrl,
      publicKeyFile,
      audiences: list(readString(env, 'JWT_AUDIENCE')) ?? ['authenticated'],
      issuer: readString(env, 'JWT_ISSUER'),
      clockSkewSeconds: readNumber(env, 'JWT_CLOCK_SKEW_SECONDS', 30, { min: 0, max: 300, integer: true }),
      algorithms: readAlgorithms(env, asymmetric),
    },
    policyFile: readString(env, 'BHIV_POLICY_FILE'),
    signingSecrets,
    encryptionKey,
    rateLimitPerMinute: readNumber(env, 'BHIV_RATE_LIMIT_PER_MINUTE', 6000, { min: 0, max: 10_000_000, integer: true }),
    idleTimeoutMs,
    headersTimeoutMs,
    requestTimeoutMs,
    trustProxy: readTrustProxy(env),
    metricsToken,
  };
}
