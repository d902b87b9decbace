import { type Server, createServer, get } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { spareResponsesInProgress } from '../../src/http/idle-closer.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const BODY = Buffer.alloc(64 * 1024 * 1024, 7);

/** A server answering every request with BODY in one end(): ended at once, flushed only as the client reads. */
async function serve(patch: boolean): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-length': BODY.length }).end(BODY));
  if (patch) spareResponsesInProgress(server);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/** Starts a download, stops reading after the first bytes, runs `meanwhile`, then reads the rest. */
function pausedDownload(server: Server, meanwhile: () => void): Promise<number> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let got = 0;
      res.on('data', (c: Buffer) => (got += c.length));
      res.once('data', () => {
        res.pause();
        setTimeout(() => {
          meanwhile();
          setTimeout(() => res.resume(), 100);
        }, 100);
      });
      res.on('end', () => resolve(got));
      res.on('error', () => resolve(got));
      res.on('aborted', () => resolve(got));
    }).on('error', () => resolve(-1));
  });
}

describe('closing idle connections while a response is still being sent', () => {
  it("Node's own closeIdleConnections cuts an ended response short (why the patch exists)", async () => {
    const server = await serve(false);
    expect(await pausedDownload(server, () => server.closeIdleConnections())).toBeLessThan(BODY.length);
  });

  it('with responses in progress spared, the download completes, and the connection is closed once idle', async () => {
    const server = await serve(true);
    expect(await pausedDownload(server, () => server.closeIdleConnections())).toBe(BODY.length);
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    const open = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
    expect(open).toBe(0);
  });

  it('spares a connection whose next request is still arriving, and closes one that sent nothing', async () => {
    const server = await serve(true);
    const { port } = server.address() as AddressInfo;
    const half = connect(port, '127.0.0.1');
    const silent = connect(port, '127.0.0.1');
    await Promise.all([half, silent].map((s) => new Promise((r) => s.once('connect', r))));
    let answer = '';
    half.on('data', (d: Buffer) => {
      if (answer.length < 64) answer += d.toString('latin1');
    });
    const silentClosed = new Promise((r) => silent.once('close', r));
    half.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 100));
    server.closeIdleConnections();
    await silentClosed;
    half.write('Connection: close\r\n\r\n');
    await new Promise((r) => setTimeout(r, 200));
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    half.destroy();
  });
});
