/**
 * How long the protocol node has been unreliable, for the exit without it (SPEC §5).
 *
 * A node that drops, answers for a moment and drops again has not come back: if every reconnect
 * restarted the count, a flapping (or hostile) node could keep its users from ever reaching the
 * exit without it. So an outage ends only once the node has answered for `settleMs` without a
 * break; a drop before that continues the outage that began at the first drop.
 */
export class OutageClock {
  /** When the first drop of this outage was seen, and since when the node answers (if it does). */
  private outage: { since: number; backAt: number | null } | null = null;

  constructor(
    private readonly settleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The node did not answer (a closed socket, a timed-out heartbeat). */
  lost(): void {
    const o = this.current();
    if (o === null) this.outage = { since: this.now(), backAt: null };
    else o.backAt = null;
  }

  /** The node answers again, with the keys this wallet pinned. */
  back(): void {
    const o = this.current();
    if (o !== null && o.backAt === null) o.backAt = this.now();
  }

  /** True while the node answers (it may still be in an outage that has not settled). */
  get answering(): boolean {
    const o = this.current();
    return o === null || o.backAt !== null;
  }

  /** Since when the node has been unreliable (null: it is not), and since when it answers again. */
  get state(): { since: number; backAt: number | null } | null {
    const o = this.current();
    return o === null ? null : { ...o };
  }

  /** How long the current outage has lasted, its brief returns included (0: none). */
  get lastedMs(): number {
    const o = this.current();
    return o === null ? 0 : this.now() - o.since;
  }

  private current() {
    const o = this.outage;
    if (o !== null && o.backAt !== null && this.now() - o.backAt >= this.settleMs)
      this.outage = null;
    return this.outage;
  }
}
