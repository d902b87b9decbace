import { readFile, writeFile } from 'node:fs/promises';
import { StorageError } from '../../core/errors.js';
import { ENCRYPTION_SCHEME, type LocalCipher } from './encryption.js';
import { isFsError } from './fs-errors.js';
import { INTERNAL_DIR, confinedJoin } from './paths.js';

/**
 * `.bucketgate/encryption.json` records that a bucket is encrypted and with which key (a public
 * fingerprint, never the key). Opening it with another key, or with none, stops at start-up with
 * a clear message instead of failing every read as if every file had been tampered with.
 */
const MARKER = 'encryption.json';

export async function checkKeyMarker(root: string, cipher: LocalCipher | undefined): Promise<void> {
  const path = confinedJoin(root, INTERNAL_DIR, MARKER);
  let marker: { scheme?: string; keyId?: string } | undefined;
  try {
    marker = JSON.parse(await readFile(path, 'utf8')) as typeof marker;
  } catch (err) {
    if (!isFsError(err, 'ENOENT')) throw new StorageError('ConfigInvalid', `BHIV_BUCKET_PATH: ${INTERNAL_DIR}/${MARKER} is unreadable`);
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
