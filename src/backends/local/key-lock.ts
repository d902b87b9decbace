/**
 * Per-key mutual exclusion inside this process. Only the short commit steps (renames, sidecar
 * writes, repairs) run under it, never the streaming of a body, so concurrent writers to one
 * key stream in parallel and commit one at a time: the last commit's data and sidecar match.
 */
export class KeyLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` holding every key in `keys`; taken in sorted order so two callers never deadlock. */
  async with<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const key of sorted) releases.push(await this.acquire(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      // The last holder cleans up so the map does not grow with every key ever written.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
