import { describe, expect, it } from 'vitest';
import { parseCatalogUrl } from '../../src/catalog/dialect.js';
import { catalogError } from '../../src/catalog/failures.js';
import { openCatalog } from '../../src/catalog/index.js';
import { compareUtf8, prefixUpperBound } from '../../src/catalog/key-order.js';
import { isStorageError } from '../../src/core/errors.js';
import { freePort } from '../support/ports.js';

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (isStorageError(err) ? err.code : err),
  );
}

describe('catalog URL', () => {
  it('tells PostgreSQL from SQLite', () => {
    expect(parseCatalogUrl('postgres://u:p@h/db')).toEqual({ dialect: 'postgres', url: 'postgres://u:p@h/db' });
    expect(parseCatalogUrl('postgresql://h/db').dialect).toBe('postgres');
    expect(parseCatalogUrl('PostgreSQL://h/db').dialect).toBe('postgres');
    expect(parseCatalogUrl('/var/bucket/.bucketgate/catalog.sqlite')).toEqual({ dialect: 'sqlite', path: '/var/bucket/.bucketgate/catalog.sqlite' });
    expect(parseCatalogUrl('rel/cat.db')).toEqual({ dialect: 'sqlite', path: 'rel/cat.db' });
    expect(parseCatalogUrl('sqlite:rel/cat.db')).toEqual({ dialect: 'sqlite', path: 'rel/cat.db' });
    expect(parseCatalogUrl('sqlite:///abs/cat.db')).toEqual({ dialect: 'sqlite', path: '/abs/cat.db' });
    expect(parseCatalogUrl(':memory:')).toEqual({ dialect: 'sqlite', path: ':memory:' });
  });

  it('refuses other schemes and empty values with ConfigInvalid', async () => {
    expect(await codeOf(openCatalog('mysql://h/db'))).toBe('ConfigInvalid');
    expect(await codeOf(openCatalog(''))).toBe('ConfigInvalid');
    expect(await codeOf(openCatalog('sqlite:'))).toBe('ConfigInvalid');
  });

  it('opens an in-memory SQLite catalog', async () => {
    const catalog = await openCatalog(':memory:');
    try {
      const row = await catalog.upsertObject({ key: 'logs/a', segment: 'logs', size: 1, contentType: 'text/plain', etag: '"e"', sha256: null, owner: null, location: 'primary' });
      expect((await catalog.getById(row.id))?.key).toBe('logs/a');
    } finally {
      await catalog.close();
    }
  });

  it('an unreachable PostgreSQL is BackendUnavailable, and the message has no password', async () => {
    const port = await freePort();
    const err = await openCatalog(`postgres://bg:s3cret-pw@127.0.0.1:${port}/db`).catch((e: unknown) => e);
    expect(isStorageError(err, 'BackendUnavailable')).toBe(true);
    expect(isStorageError(err) && err.temporary).toBe(true);
    expect(String((err as Error).message)).not.toContain('s3cret-pw');
  });
});

describe('key order', () => {
  it('compares UTF-8 bytes, not UTF-16 units', () => {
    expect('\u{FF5E}' > '\u{1F600}').toBe(true); // JavaScript's order
    expect(compareUtf8('\u{FF5E}', '\u{1F600}')).toBeLessThan(0); // byte order
    expect(compareUtf8('a-b', 'a/b')).toBeLessThan(0);
    expect(compareUtf8('Z', 'a')).toBeLessThan(0);
    expect(compareUtf8('é', 'z')).toBeGreaterThan(0);
  });

  it('bounds a prefix by its last code point plus one', () => {
    expect(prefixUpperBound('a/b')).toBe('a/c');
    expect(prefixUpperBound('a%')).toBe('a&');
    expect(prefixUpperBound('x\u{D7FF}')).toBe('x\u{E000}');
    expect(prefixUpperBound('x\u{FFFF}')).toBe('x\u{10000}');
    expect(prefixUpperBound('x\u{1F600}')).toBe('x\u{1F601}');
    expect(prefixUpperBound('x\u{10FFFF}')).toBe('y');
    expect(prefixUpperBound('\u{10FFFF}\u{10FFFF}')).toBeUndefined();
    expect(prefixUpperBound('')).toBeUndefined();
  });

  it('every key with the prefix sorts below the bound, and nothing else between', () => {
    const prefix = 'up/é\u{FFFF}';
    const bound = prefixUpperBound(prefix) as string;
    for (const tail of ['', 'a', '\u{10FFFF}', '\u{10FFFF}\u{10FFFF}zz', '\u{FFFF}']) {
      expect(compareUtf8(prefix + tail, bound)).toBeLessThan(0);
    }
    expect(compareUtf8('up/é\u{10000}', bound)).toBe(0);
    expect(compareUtf8('up/é\u{FFFE}\u{10FFFF}', prefix)).toBeLessThan(0);
  });
});

describe('catalog errors', () => {
  const cases: [string, string, boolean][] = [
    ['23505', 'AlreadyExists', false],
    ['SQLITE_CONSTRAINT_PRIMARYKEY', 'AlreadyExists', false],
    ['SQLITE_BUSY', 'BackendUnavailable', true],
    ['57P01', 'BackendUnavailable', true],
    ['08006', 'BackendUnavailable', true],
    ['ECONNREFUSED', 'BackendUnavailable', true],
    ['28P01', 'BackendUnavailable', false],
    ['SQLITE_FULL', 'InsufficientStorage', false],
    ['42P01', 'Internal', false],
  ];
  it.each(cases)('%s → %s', (code, expected, temporary) => {
    const err = catalogError(Object.assign(new Error('boom'), { code }), 'test');
    expect(err.code).toBe(expected);
    expect(err.temporary).toBe(temporary);
    expect(err.message).toBe('catalog test failed: boom');
  });
});
