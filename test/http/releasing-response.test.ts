import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ChunkPool, isLentChunk } from '../../src/core/lent-chunks.js';
import { ReleasingResponse } from '../../src/http/releasing-response.js';

describe('ReleasingResponse (lent chunks go back once the socket has them)', () => {
  it('sends lent chunks intact and releases each only after its write completed', async () => {
    const pool = new ChunkPool(256 * 1024, 8);
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
});
