import { writeFile } from 'node:fs/promises';
import { upload } from '../support/http.js';
import { startService } from '../support/service.js';

/**
 * Starts the service for a schemathesis run in another process: prints one JSON line
 * `{ url, token }` when ready and stops on SIGTERM. A few objects exist so reads find something.
 */
const h = await startService({ env: { MAX_UPLOAD_SIZE_MB: '1' } });
await upload(h, 'uploads', 'seed/readme.txt', 'seed file', 'text/plain');
await upload(h, 'videos', 'seed/clip.mp4', Buffer.from('\0\0\0\x14ftypisom0123mp41', 'latin1'), 'video/mp4');
const line = JSON.stringify({ url: h.url, token: h.serviceToken });
if (process.argv[2]) await writeFile(process.argv[2], `${line}\n`);
console.log(line);
const stop = async () => {
  await h.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
