import type { Command } from 'commander';
import { reindex } from '../catalog/reindex.js';
import { createStorage } from '../service/storage.js';

export function registerReindex(program: Command) {
  program
    .command('reindex')
    .description('Rebuild the catalog from what the backend holds')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const storage = await createStorage();
      try {
        const result = await reindex(storage.catalog, storage.backend, { segments: storage.keys.segments });
        console.log(opts.json ? JSON.stringify(result) : `reindexed ${result.objects} objects (${result.bytes} bytes), removed ${result.removed} stale rows`);
      } finally {
        await storage.close();
      }
    });
}
