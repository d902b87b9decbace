import { createHash, randomBytes } from 'node:crypto';
import { get, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChunkPool, isLentChunk } from '../../src/core/lent-chunks.js';
import { ReleasingResponse } from '../../src/http/releasing-response.js';
import { startService } from '../support/service.js';
import { upload } from '../support/http.js';

/** A pool whose released buffers are scribbled over at once: the earliest a reuse could write them. */
class ScribblingPool extends ChunkPool {
  override reuse(buffer: Buffer): void {
    buffer.fill(0xee);
    super.reuse(buffer);
  }
}

describe('ReleasingResponse (lent chunks go back once the socket has them)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('sends lent chunks intact and releases each only after its write completed', async () => {
    const pool = new ScribblingPool(256 * 1024, 8);
    const sent: Buffer[] = [];
    let lentRightAfterWrite = 0;
    const server = createServer({ ServerResponse: ReleasingResponse }, (_req, res) => {
      res.setHeader('content-length', String(4 * 256 * 1024 + 3));
      for (let i = 0; i < 4; i++) {
        const chunk = pool.take().fill(i + 1);
        sent.push(chunk);
        let called = false;
        res.write(chunk, () => {
          called = true;
        });
        if (!called && isLentChunk(chunk)) lentRightAfterWrite++;
      }
      res.end(Buffer.from('end'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer());
      expect(body.length).toBe(4 * 256 * 1024 + 3);
      for (let i = 0; i < 4; i++) expect(body.subarray(i * 256 * 1024, (i + 1) * 256 * 1024).every((b) => b === i + 1)).toBe(true);
      expect(body.subarray(-3).toString()).toBe('end');
      expect(lentRightAfterWrite).toBe(4); // none released before its write's callback
      expect(sent.some((c) => isLentChunk(c))).toBe(false); // all released once written
      expect(sent).toContain(pool.take()); // …and back in the pool
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('leaves plain writes and their callbacks alone', async () => {
    let calledBack = false;
    const server = createServer({ ServerResponse: ReleasingResponse }, (_req, res) => {
      res.write('text ', 'utf8', () => {
        calledBack = true;
      });
      res.end(Buffer.from('and bytes'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('text and bytes');
      expect(calledBack).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('through the service: a slowly read download of several MiB reuses its buffers and arrives byte for byte', async () => {
    const h = await startService({ env: { MAX_UPLOAD_SIZE_MB: '32' } });
    try {
      const data = randomBytes(20 * 1024 * 1024 + 11); // ten 2 MiB reads: enough to come back to released ones
      const obj = await upload(h, 'uploads', 'slow/reader.bin', data);
      // Every released buffer is scribbled over at once, and reuses are counted.
      const taken = new Set<Buffer>();
      let reused = 0;
      const { take, reuse } = ChunkPool.prototype;
      vi.spyOn(ChunkPool.prototype, 'take').mockImplementation(function (this: ChunkPool) {
        const buffer = take.call(this);
        if (taken.has(buffer)) reused++;
        taken.add(buffer);
        return buffer;
      });
      vi.spyOn(ChunkPool.prototype, 'reuse').mockImplementation(function (this: ChunkPool, buffer: Buffer) {
        buffer.fill(0xee);
        reuse.call(this, buffer);
      });
      const body = await new Promise<Buffer>((resolve, reject) => {
        get(`${h.url}/cdn/download/${obj.id}`, { agent: false, headers: { authorization: `Bearer ${h.serviceToken}` } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            res.pause(); // a slow reader: the socket fills, and writes complete one by one
            setTimeout(() => res.resume(), 2);
          });
          res.on('end', () => resolve(Buffer.concat(chunks)));
          res.on('error', reject);
        }).on('error', reject);
      });
      expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      expect(reused).toBeGreaterThan(0);
    } finally {
      await h.stop();
    }
  });
});
