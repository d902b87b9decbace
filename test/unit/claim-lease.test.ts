import { describe, expect, it } from 'vitest';
import { ClaimLease } from '../../src/layers/claim-lease.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ClaimLease', () => {
  it('keeps the signals quiet while renewals hold the claims, past several lease lengths', async () => {
    const lease = new ClaimLease([1, 2], 120, Date.now(), async (seqs) => seqs);
    try {
      await sleep(400);
      expect(lease.signal(1).aborted).toBe(false);
      expect(lease.signal(2).aborted).toBe(false);
    } finally {
      lease.close();
    }
  });

  it('aborts only the entries a renewal no longer holds', async () => {
    const lease = new ClaimLease([1, 2], 120, Date.now(), async () => [2]);
    try {
      await sleep(80); // one renewal (every 40 ms)
      expect(lease.signal(1).aborted).toBe(true);
      expect((lease.signal(1).reason as Error).message).toMatch(/lost/);
      expect(lease.signal(2).aborted).toBe(false);
    } finally {
      lease.close();
    }
  });

  it('aborts everything a quarter of the lease before it would lapse when renewals keep failing', async () => {
    const started = Date.now();
    const lease = new ClaimLease([7], 200, started, () => Promise.reject(new Error('catalog unreachable')));
    try {
      const aborted = await new Promise<number>((resolve) => lease.signal(7).addEventListener('abort', () => resolve(Date.now() - started)));
      expect(aborted).toBeGreaterThanOrEqual(140);
      expect(aborted).toBeLessThan(1000); // due at 150 ms; timers run late on a loaded machine
      expect((lease.signal(7).reason as Error).message).toMatch(/could not be renewed/);
    } finally {
      lease.close();
    }
  });

  it('stops renewing entries given back', async () => {
    const renewed: number[][] = [];
    const lease = new ClaimLease([1, 2], 120, Date.now(), async (seqs) => {
      renewed.push(seqs);
      return seqs;
    });
    lease.release(1);
    await sleep(60);
    lease.close();
    expect(renewed.at(-1)).toEqual([2]);
  });
});
