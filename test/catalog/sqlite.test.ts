import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCatalog } from './suite.js';

describeCatalog('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bucketgate-catalog-'));
  let n = 0;
  return {
    // A nested path: the catalog creates its folder, as it must for `<bucket>/.bucketgate/catalog.sqlite`.
    freshUrl: async () => join(dir, `db${++n}`, 'catalog.sqlite'),
    stop: () => rm(dir, { recursive: true, force: true }),
  };
});
