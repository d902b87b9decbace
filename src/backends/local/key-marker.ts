import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../../core/errors.js';
import { ENCRYPTION_SCHEME, type LocalCipher } from './encryption.js';
import { isFsError } from './fs-errors.js';
import { type Sidecar, isSidecar, sealedBy } from './metadata.js';
import { INTERNAL_DIR, META_DIR, confinedJoin } from './paths.js';

/**
 * `.bucketgate/encryption.json` records that a bucket is encrypted and with which key (a public
 * fingerprint, never the key). Opening it with another key, or with none, stops at start-up with
 * a clear message instead of failing every read as if every file had been tampered with.
 */
const MARKER = 'encryption.json';

/** Sidecars looked at, at most, for an encrypted one when the marker is missing. */
const SAMPLE = 2000;

export async function checkKeyMarker(root: string, cipher: LocalCipher | undefined): Promise<void> {
  const path = confinedJoin(root, INTERNAL_DIR, MARKER);
  let marker: { scheme?: string; keyId?: string } | undefined;
  try {
    marker = JSON.parse(await readFile(path, 'utf8')) as typeof marker;
  } catch (err) {
    if (!isFsError(err, 'ENOENT')) throw new StorageError('ConfigInvalid', `BHIV_BUCKET_PATH: ${INTERNAL_DIR}/${MARKER} is unreadable`);
  }
  if (!marker) {
    // A lost marker must not let the bucket open without its key, or with another: an encrypted
    // object, if there is one, says which key the bucket has.
    const sealed = await findEncryptedSidecar(root);
    if (sealed && !cipher) {
      throw new StorageError('ConfigInvalid', `BHIV_ENCRYPTION_KEY: this bucket holds objects encrypted at rest (${sealed.key}), but the key is missing (and so is ${INTERNAL_DIR}/${MARKER})`);
    }
    if (sealed && cipher && !sealedBy(cipher, sealed.key, sealed.sidecar)) {
      throw new StorageError('ConfigInvalid', `BHIV_ENCRYPTION_KEY: objects in this bucket (${sealed.key}) were encrypted with another key (and ${INTERNAL_DIR}/${MARKER} is missing)`);
    }
  }
  if (!cipher) {
    if (marker) throw new StorageError('ConfigInvalid', 'BHIV_ENCRYPTION_KEY: expected the key this bucket is encrypted with, it is missing');
    return;
  }
  if (!marker) {
    await writeFile(path, `${JSON.stringify({ scheme: ENCRYPTION_SCHEME, keyId: cipher.keyId })}\n`, { flag: 'wx', mode: 0o600 }).catch((err: unknown) => {
      if (!isFsError(err, 'EEXIST')) throw err;
    });
    return checkKeyMarker(root, cipher);
  }
  if (marker.keyId !== cipher.keyId) {
    throw new StorageError('ConfigInvalid', `BHIV_ENCRYPTION_KEY: expected the key this bucket is encrypted with (key id ${marker.keyId}), got key id ${cipher.keyId}`);
  }
}

/**
 * The first sidecar of an encrypted object under `.bucketgate/meta`, looking at no more than
 * SAMPLE sidecars (a bucket is encrypted throughout or not at all); symbolic links are not followed.
 */
async function findEncryptedSidecar(root: string): Promise<{ key: string; sidecar: Sidecar } | undefined> {
  let seen = 0;
  const walk = async (dir: string, keyParts: string[]): Promise<{ key: string; sidecar: Sidecar } | undefined> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (seen >= SAMPLE) return undefined;
      if (entry.isDirectory()) {
        const name = keyParts.length === 0 ? entry.name : entry.name.endsWith('.d') ? entry.name.slice(0, -2) : undefined;
        const found = name === undefined ? undefined : await walk(join(dir, entry.name), [...keyParts, name]);
        if (found) return found;
      } else if (entry.isFile() && entry.name.endsWith('.json') && keyParts.length > 0) {
        seen++;
        const sidecar = await readJson(join(dir, entry.name));
        if (isSidecar(sidecar) && sidecar.enc !== undefined) return { key: [...keyParts, entry.name.slice(0, -5)].join('/'), sidecar };
      }
    }
    return undefined;
  };
  return walk(confinedJoin(root, INTERNAL_DIR, META_DIR), []);
}

/** A file's JSON, or undefined when it cannot be read or parsed (a torn sidecar is no evidence). */
async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}
