/**
 * Races between the fallback's readers and writers of the same key, and a catalog that commits
 * but loses its answer: what a reader gets and what the store keeps must be an accepted write,
 * never the content an accepted write replaced.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/core/errors.js';
import type { Backend } from '../../src/core/backend.js';
import { forwardAll } from '../../src/layers/forward.js';
import type { Outbox } from '../../src/layers/outbox.js';
import { replayable } from '../../src/layers/replayable.js';
import { Replayer, type ReplayerOptions } from '../../src/layers/replayer.js';
import { outcome, readAll, resilientLocal, tempDir } from './helpers.js';

type Stack = Awaited<ReturnType<typeof resilientLocal>>;
const open: Stack[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
});

async function stack(): Promise<Stack> {
  const s = await resilientLocal(await tempDir(), { BHIV_CIRCUIT_FAILURES: '1000' });
  open.push(s);
  return s;
}

/** Holds a `latest` lookup of the outbox (the next after `skip` others) once it has its answer, until `release`. */
function pauseNextLookup(outbox: Outbox, skip = 0) {
  const real = outbox.latest.bind(outbox);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const found = new Promise<void>((r) => (reached = r));
  outbox.latest = async (keys) => {
    if (skip-- > 0) return real(keys);
    outbox.latest = real;
    const answer = await real(keys);
    reached();
    await gate;
    return answer;
  };
  return { found, release };
}

/** `key` holds 'v0 on the primary', then, written during an outage, 'v1 on the fallback'; the primary stays down. */
async function divertedOver(s: Stack, key: string): Promise<void> {
  await s.backend.put(key, replayable(Buffer.from('v0 on the primary')));
  s.down();
  await s.backend.put(key, replayable(Buffer.from('v1 on the fallback')));
}

const text = async (p: Promise<{ body: NodeJS.ReadableStream }>) => (await readAll((await p).body as never)).toString();

describe('fallback races', () => {
  it('a read whose fallback entry is superseded under it returns the newer write, not what preceded the outage', async () => {
    const s = await stack();
    await divertedOver(s, 'uploads/b');
    s.up();
    const paused = pauseNextLookup(s.catalog.outbox);
    const reading = text(s.backend.get('uploads/b'));
    await paused.found; // it found v1's entry...
    await s.backend.put('uploads/b', replayable(Buffer.from('v2 newest'))); // ...which v2 supersedes, dropping v1's bytes
    paused.release();
    expect(await reading).toBe('v2 newest');
  });

  it('a copy whose source entry is superseded under it copies an accepted version, never the pre-outage one', async () => {
    const s = await stack();
    await divertedOver(s, 'uploads/src');
    s.up();
    // The copy asks whether either key is in the outbox, then looks its source up: that second lookup waits.
    const paused = pauseNextLookup(s.catalog.outbox, 1);
    const copying = s.backend.copy('uploads/src', 'uploads/dst');
    await paused.found;
    await s.backend.put('uploads/src', replayable(Buffer.from('v2 newest')));
    paused.release();
    await copying;
    expect(await text(s.backend.get('uploads/dst'))).toBe('v2 newest');
  });

  it('a read whose entry is replaced by a queued delete reports the object gone', async () => {
    const s = await stack();
    await divertedOver(s, 'uploads/d');
    const paused = pauseNextLookup(s.catalog.outbox);
    const reading = outcome(s.backend.get('uploads/d'));
    await paused.found;
    await s.backend.delete('uploads/d'); // still down: queued, supersedes v1
    paused.release();
    expect(await reading).toBe('NotFound');
  });

  it('a diverted write whose outbox entry committed but whose answer was lost is kept, with the write before it', async () => {
    const s = await stack();
    await divertedOver(s, 'uploads/e');
    const outbox = s.catalog.outbox;
    const real = outbox.enqueue.bind(outbox);
    outbox.enqueue = async (entry) => {
      outbox.enqueue = real;
      await real(entry);
      throw new StorageError('BackendUnavailable', 'connection reset after COMMIT', { temporary: true });
    };
    // Committed: the write is accepted, and its bytes kept.
    const info = await s.backend.put('uploads/e', replayable(Buffer.from('v2 committed')));
    expect(info.location).toBe('fallback');
    expect(await text(s.backend.get('uploads/e'))).toBe('v2 committed');
    s.up();
    await s.drain();
    expect(await text(s.primary.get('uploads/e'))).toBe('v2 committed');
  });

  it('a diverted write whose outbox entry was not committed fails and leaves the previous write in place', async () => {
    const s = await stack();
    s.down();
    await s.backend.put('uploads/f', replayable(Buffer.from('v1 on the fallback')));
    const outbox = s.catalog.outbox;
    const real = outbox.enqueue.bind(outbox);
    outbox.enqueue = async () => {
      outbox.enqueue = real;
      throw new StorageError('BackendUnavailable', 'catalog unreachable', { temporary: true });
    };
    expect(await outcome(s.backend.put('uploads/f', replayable(Buffer.from('v2 never recorded'))))).toBe('BackendUnavailable');
    expect(await text(s.backend.get('uploads/f'))).toBe('v1 on the fallback');
    s.up();
    await s.drain();
    expect(await text(s.primary.get('uploads/f'))).toBe('v1 on the fallback');
  });

  it('a replay whose claim lapses (renewals failing) stops its write, so it cannot land over a newer write replayed meanwhile', async () => {
    let holdNext = false;
    let letGo: (() => void) | undefined;
    // The primary holds the next write of uploads/g until let go, or until its signal aborts.
    const holding = (primary: Backend): Backend => ({
      ...forwardAll(primary, (_op, _key, call) => call()),
      async put(key, body, opts) {
        if (holdNext && key === 'uploads/g') {
          holdNext = false;
          await new Promise<void>((resolve, reject) => {
            letGo = resolve;
            opts?.signal?.addEventListener('abort', () => reject(opts.signal!.reason as Error));
          });
        }
        return primary.put(key, body, opts);
      },
    });
    const s = await resilientLocal(await tempDir(), { BHIV_CIRCUIT_FAILURES: '1000' }, undefined, holding);
    open.push(s);
    s.down();
    await s.backend.put('uploads/g', replayable(Buffer.from('v1 older')));
    s.up();
    const base = (s.resilience.fallback!.replayer as unknown as { opts: ReplayerOptions }).opts;
    const outbox = s.catalog.outbox;
    const renew = outbox.renew.bind(outbox);
    outbox.renew = () => Promise.reject(new StorageError('BackendUnavailable', 'catalog unreachable', { temporary: true }));
    const first = new Replayer({ ...base, leaseMs: 300, intervalMs: 10_000 });
    holdNext = true;
    const firstRound = first.runOnce();
    await new Promise((r) => setTimeout(r, 400)); // its lease has lapsed by now
    outbox.renew = renew;
    await s.backend.put('uploads/g', replayable(Buffer.from('v2 newer'))); // supersedes v1's entry
    await s.drain(); // another replayer writes v2 to the primary
    letGo?.();
    await firstRound;
    expect(await text(s.primary.get('uploads/g'))).toBe('v2 newer');
    expect(await text(s.backend.get('uploads/g'))).toBe('v2 newer');
    expect((await outbox.stats()).pending).toBe(0);
  });
});
