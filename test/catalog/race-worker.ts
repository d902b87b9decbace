/**
 * A separate process for the cross-process races in suite.ts: opens the catalog (racing
 * the other worker's migration on a fresh database), says "ready", then reads one line of
 * JSON token secrets and tries to consume every one at once, printing the ones it won.
 */
import { createInterface } from 'node:readline';
import { openCatalog } from '../../src/catalog/index.js';

const url = process.argv[2] as string;
const catalog = await openCatalog(url);
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const tokens = JSON.parse(line) as string[];
  const results = await Promise.all(tokens.map((t) => catalog.consumeUploadToken(t)));
  process.stdout.write(`${JSON.stringify(tokens.filter((_, i) => results[i] !== undefined))}\n`);
  break;
}
lines.close();
await catalog.close();
