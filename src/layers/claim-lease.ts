/**
 * The lease on a batch of claimed outbox entries, kept alive by renewing it. A replay must not
 * outlive its claim: once the claim may have lapsed, another replayer can take the entry or a
 * newer write supersede it, and a late write of the older bytes would land on top of the newer
 * ones. So each entry's replay gets a signal, aborted when a renewal finds the claim lost, or
 * when renewals have failed until a margin before the lease would lapse.
 */
export class ClaimLease {
  private readonly controllers = new Map<number, AbortController>();
  /** When the lease surely still holds until (conservative: counted from before each request). */
  private heldUntil: number;
  private readonly renewTimer: NodeJS.Timeout;
  private lapseTimer: NodeJS.Timeout | undefined;

  /**
   * @param claimedAt when the claim was asked for (before the request: the catalog's own clock
   *   can only have started the lease later)
   * @param renew extends the claims on these entries; resolves with the ones still held
   */
  constructor(
    seqs: readonly number[],
    private readonly leaseMs: number,
    claimedAt: number,
    private readonly renew: (seqs: number[]) => Promise<readonly number[]>,
  ) {
    for (const seq of seqs) this.controllers.set(seq, new AbortController());
    this.heldUntil = claimedAt + leaseMs;
    this.renewTimer = setInterval(() => void this.renewNow(), leaseMs / 3);
    this.renewTimer.unref();
    this.armLapse();
  }

  /** Aborts once the claim on `seq` is lost or may lapse. */
  signal(seq: number): AbortSignal {
    const controller = this.controllers.get(seq);
    if (!controller) throw new Error(`entry ${seq} is not in this lease`);
    return controller.signal;
  }

  /** The entry is finished or given back: no more renewing it. */
  release(seq: number): void {
    this.controllers.delete(seq);
  }

  close(): void {
    clearInterval(this.renewTimer);
    clearTimeout(this.lapseTimer);
  }

  /** A quarter of the lease before it would lapse, the writes stop: time for an abort to take effect. */
  private armLapse(): void {
    clearTimeout(this.lapseTimer);
    this.lapseTimer = setTimeout(() => this.abortAll('the claim could not be renewed'), Math.max(0, this.heldUntil - this.leaseMs / 4 - Date.now()));
    this.lapseTimer.unref();
  }

  private async renewNow(): Promise<void> {
    const seqs = [...this.controllers].filter(([, c]) => !c.signal.aborted).map(([seq]) => seq);
    if (seqs.length === 0) return;
    const sentAt = Date.now();
    let held: Set<number>;
    try {
      held = new Set(await this.renew(seqs));
    } catch {
      return; // the lapse timer stops the writes if renewals keep failing
    }
    for (const seq of seqs) if (!held.has(seq)) this.abort(seq, 'the claim was lost');
    this.heldUntil = sentAt + this.leaseMs;
    this.armLapse();
  }

  private abortAll(reason: string): void {
    for (const seq of this.controllers.keys()) this.abort(seq, reason);
  }

  private abort(seq: number, reason: string): void {
    const controller = this.controllers.get(seq);
    if (controller && !controller.signal.aborted) controller.abort(new Error(reason));
  }
}
