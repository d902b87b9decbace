import { type KeyObject, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type JWTVerifyGetKey, createRemoteJWKSet } from 'jose';
import type { JwtAlgorithm } from '../config/security.js';
import { configError } from '../config/parse.js';

/**
 * Where RS256/ES256 verification keys come from: a JWKS URL (fetched lazily, cached, refetched
 * when a token names an unknown `kid`) or one PEM public key. A key is only ever used with the
 * algorithm its type allows, so an RSA key never verifies an HS256 token (algorithm confusion).
 */
export type AsymmetricKeys = { kind: 'jwks'; resolve: JWTVerifyGetKey } | { kind: 'pem'; key: KeyObject; algorithm: JwtAlgorithm };

export interface KeySources {
  jwksUrl?: string;
  publicKeyFile?: string;
}

/** The algorithm a PEM key may sign with; anything but RSA or P-256 is refused at start-up. */
function algorithmOf(key: KeyObject, file: string): JwtAlgorithm {
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw configError('JWT_PUBLIC_KEY_FILE', 'an RSA key of at least 2048 bits', `${file} (${bits} bits)`);
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw configError('JWT_PUBLIC_KEY_FILE', 'an RSA or EC P-256 public key (PEM)', `${file} (${key.asymmetricKeyType})`);
}

export function loadAsymmetricKeys(sources: KeySources): AsymmetricKeys | undefined {
  if (sources.jwksUrl && sources.publicKeyFile) {
    throw configError('JWT_PUBLIC_KEY_FILE', 'to be unset when JWT_JWKS_URL is set (one key source)', sources.publicKeyFile);
  }
  if (sources.jwksUrl) {
    return { kind: 'jwks', resolve: createRemoteJWKSet(new URL(sources.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 }) };
  }
  if (!sources.publicKeyFile) return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(sources.publicKeyFile, 'utf8'));
  } catch (err) {
    throw configError('JWT_PUBLIC_KEY_FILE', 'a readable PEM public key or certificate', `${sources.publicKeyFile} (${(err as Error).message})`);
  }
  return { kind: 'pem', key, algorithm: algorithmOf(key, sources.publicKeyFile) };
}
