/**
 * The Node floor of bench/http.bench.ts: the least any Node HTTP server does for the same
 * requests, so a service figure can be split into "Node itself" and "the service's own work".
 * Plain node:http, no framework, no auth, no catalog, no checksum, no fsync:
 *   GET /<name>  streams <root>/<name> (fs read stream, 1 MiB reads, as the local backend)
 *   GET /mem/<name>  answers <root>/<name> from memory (read once): the ceiling of node:http
 *                    itself, with no file system at all
 *   PUT /<name>  streams the body into a temp file, renames it to <root>/<name>, answers 201;
 *                chunks that arrive while a write runs go out together (up to ~1 MiB per writev,
 *                as the service batches; with the default 16 KiB buffer it wrote each 64 KiB read
 *                alone and took ~40 % more CPU)
 * Plain JavaScript (run by `node` without a loader, like the service's build). Prints
 * `listening <port>` once ready.  node node-floor-server.mjs <root>
 */
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';
import process from 'node:process';
import { pipeline } from 'node:stream/promises';

const root = process.argv[2];
let temps = 0;
const inMemory = new Map();

const server = createServer(async (req, res) => {
  const path = join(root, basename(decodeURIComponent(req.url.split('?')[0])));
  try {
    if (req.method === 'GET' && req.url.startsWith('/mem/')) {
      let body = inMemory.get(path);
      if (!body) inMemory.set(path, (body = readFileSync(path)));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
    } else if (req.method === 'GET') {
      const { size } = await stat(path);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), res);
    } else if (req.method === 'PUT') {
      const temp = `${path}.tmp-${temps++}`;
      try {
        await pipeline(req, createWriteStream(temp, { highWaterMark: 1 << 20 }));
        await rename(temp, path);
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw err;
      }
      res.writeHead(201, { 'content-length': 0 }).end();
    } else {
      res.writeHead(405, { 'content-length': 0 }).end();
    }
  } catch {
    if (!res.headersSent) res.writeHead(404, { 'content-length': 0 }).end();
    else res.destroy();
  }
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
