import { describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/index.js';
import { isStorageError } from '../../src/core/errors.js';
import { describeCatalog } from './suite.js';
import { startPostgres } from '../servers/postgres.js';

describeCatalog('postgres', async () => {
  const server = await startPostgres();
  console.log(`PostgreSQL started in ${server.startedInMs} ms`);
  return { freshUrl: () => server.newDatabase(), stop: () => server.stop() };
});

describe('catalog on a PostgreSQL that goes away', () => {
  it('reports BackendUnavailable, temporary', async () => {
    const server = await startPostgres();
    const catalog = await openCatalog(server.url);
    try {
      await catalog.ping();
      await server.stop();
      const err = await catalog.ping().catch((e: unknown) => e);
      expect(isStorageError(err, 'BackendUnavailable')).toBe(true);
      expect(isStorageError(err) && err.temporary).toBe(true);
    } finally {
      await catalog.close();
      await server.stop();
    }
  });
});
