import type { Command } from 'commander';
import { createStorage } from '../service/storage.js';
import { formatBytes, printJson, table } from './output.js';

/** Deletes objects past their segment's retention (the guide's lifecycle and "regular cleanup"). */
export function registerCleanup(program: Command) {
  program
    .command('cleanup')
    .description('Delete objects older than their segment\'s retentionDays')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--json', 'print JSON')
    .action(async (opts: { dryRun?: boolean; json?: boolean }) => {
      const storage = await createStorage();
      const expired: { key: string; size: number; modified: string }[] = [];
      try {
        for (const segment of storage.config.segments.filter((s) => s.retentionDays !== null)) {
          const cutoff = Date.now() - segment.retentionDays! * 86_400_000;
          let cursor: string | undefined;
          do {
            const page = await storage.backend.list(`${segment.name}/`, { cursor, limit: 1000 });
            for (const o of page.objects) if (o.lastModified.getTime() < cutoff) expired.push({ key: o.key, size: o.size, modified: o.lastModified.toISOString() });
            cursor = page.cursor;
          } while (cursor);
        }
        if (!opts.dryRun) {
          for (const o of expired) {
            await storage.backend.delete(o.key);
            await storage.catalog.deleteByKey(o.key);
          }
        }
      } finally {
        await storage.close();
      }
      const bytes = expired.reduce((n, o) => n + o.size, 0);
      if (opts.json) return printJson({ dryRun: opts.dryRun === true, deleted: opts.dryRun ? 0 : expired.length, expired, bytes });
      if (expired.length) console.log(table(expired.map((o) => ({ ...o, size: formatBytes(o.size) }))));
      console.log(`${opts.dryRun ? 'would delete' : 'deleted'} ${expired.length} objects (${formatBytes(bytes)})`);
    });
}
