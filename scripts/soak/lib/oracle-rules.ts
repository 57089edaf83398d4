/**
 * The oracle soak's referee: SPEC §7 written out again from the specification, independently of
 * core/oracle, so the soak can recompute every round from what the sources were made to answer.
 */
import type { OracleConfig } from '../../../core/oracle/config';

const SATS_PER_BTC = 100_000_000n;

/** What one source is made to answer in one round. */
export type Injected =
  | { kind: 'price'; priceCents: number; ts: number | undefined }
  | { kind: 'error' }
  | { kind: 'hang' };

/** The median; with an even count the mean of the middle two, rounded half up. */
export function median(values: bigint[]): bigint | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]! + 1n) / 2n;
}

/** |b − a| ≤ a × limit / 10 000, exactly. */
export function within(a: bigint, b: bigint, limitBps: number): boolean {
  const diff = a > b ? a - b : b - a;
  return diff * 10_000n <= BigInt(limitBps) * a;
}

/** What the referee remembers of a source that answers without a time. */
export type Untimed = Map<number, { price: bigint; since: number; liveThen: bigint | null }>;

/**
 * SPEC §7's aggregation, with the rules of "The peg and the price":
 * - our clock is moved towards the timed sources' by the largest (their time − ours), at most
 *   `maxClockSkewMs` either way, when two or more answers carry a time;
 * - against that time, an answer more than `futureSkewMs` ahead or older than `maxAge` is not
 *   timely; an untimed answer is timed by its receipt;
 * - an untimed price unchanged for `frozenAfterMs` while the median of the other timely
 *   answers (those not standing so long) moved more than `frozenMoveBps` since it first
 *   appeared is frozen, not timely;
 * - of the timely prices, those more than maxDeviation from their median are dropped; the price
 *   is the median of the rest when at least `threshold` remain.
 * Returns the survivors' indexes, and updates `untimed` for the next round.
 */
export function aggregateByRule(
  answers: Injected[],
  now: number,
  c: OracleConfig,
  untimed: Untimed = new Map(),
): { price: bigint | null; survivors: number[] } {
  const offsets = answers.flatMap((a) =>
    a.kind === 'price' && a.ts !== undefined ? [a.ts - now] : [],
  );
  let shift = 0;
  if (offsets.length >= 2)
    shift = Math.min(c.maxClockSkewMs, Math.max(-c.maxClockSkewMs, Math.max(...offsets)));
  const ours = now + shift;
  const timely = answers.flatMap((a, i) =>
    a.kind === 'price' &&
    (a.ts === undefined || (a.ts <= ours + c.futureSkewMs && ours - a.ts <= c.maxAgeMs))
      ? [{ i, p: BigInt(a.priceCents), untimed: a.ts === undefined }]
      : [],
  );
  const standing = timely.filter((t) => {
    const seen = untimed.get(t.i);
    return (
      t.untimed &&
      c.frozenAfterMs > 0 &&
      seen !== undefined &&
      seen.price === t.p &&
      now - seen.since >= c.frozenAfterMs
    );
  });
  const live = median(timely.filter((t) => !standing.includes(t)).map((t) => t.p));
  const frozen = standing.filter((t) => {
    const then = untimed.get(t.i)!.liveThen;
    return then !== null && live !== null && !within(then, live, c.frozenMoveBps);
  });
  // A source that did not answer untimed this round is forgotten.
  const answeredUntimed = new Set(timely.filter((x) => x.untimed).map((x) => x.i));
  for (const i of [...untimed.keys()]) if (!answeredUntimed.has(i)) untimed.delete(i);
  for (const t of timely.filter((x) => x.untimed)) {
    const seen = untimed.get(t.i);
    if (seen && seen.price === t.p) seen.liveThen ??= live;
    else untimed.set(t.i, { price: t.p, since: now, liveThen: live });
  }
  const counted = timely.filter((t) => !frozen.includes(t));
  const m = median(counted.map((t) => t.p));
  const survivors =
    m === null
      ? []
      : counted.filter(
          ({ p }) => (p > m ? p - m : m - p) * 10_000n <= BigInt(c.maxDeviationBps) * m,
        );
  const price = survivors.length >= c.threshold ? median(survivors.map((t) => t.p)) : null;
  return { price, survivors: survivors.map((t) => t.i) };
}

export interface Expected {
  price: bigint | null;
  survivors: number;
  /** The surviving answers' indexes. */
  used: number[];
  status: 'ok' | 'held' | 'insufficient-sources';
}

/**
 * Whether `p` moves back from `last` into the range towards the window's oldest price, within
 * the limit of that price (after a spike nothing is being walked).
 */
export function backTowards(
  last: bigint,
  oldest: bigint | undefined,
  p: bigint,
  limitBps: number,
): boolean {
  if (oldest === undefined) return false;
  const between = (last <= p && p <= oldest) || (oldest <= p && p <= last);
  return between && within(oldest, p, limitBps);
}

/**
 * Replays the breaker across a scenario's rounds: a price within the limit of the last and of
 * every price accepted in the window — or one moving back towards the window's oldest price — is
 * ok; any other is held, and ok once it has stood (every priced round since within the limit of
 * the first held price) for `breakerConfirmMs` over at least max(1, ⌊confirm / interval / 2⌋)
 * agreeing rounds (0 ms: the next agreeing round). A round without a price neither confirms nor
 * ends a hold, unless no agreeing round came for maxAge. After a confirmed move the window
 * holds the held price, the hold's lowest and highest, and the new price.
 */
export class Referee {
  private last: bigint | null = null;
  private accepted: { at: number; p: bigint }[] = [];
  private held: {
    p: bigint;
    since: number;
    lastAt: number;
    rounds: number;
    low: bigint;
    high: bigint;
  } | null = null;
  private readonly untimed: Untimed = new Map();

  constructor(private readonly c: OracleConfig) {}

  /** The price a round must produce from these answers at `now`, and its fate at the breaker. */
  round(answers: Injected[], now: number): Expected {
    const c = this.c;
    const { price, survivors } = aggregateByRule(answers, now, c, this.untimed);
    this.accepted = this.accepted.filter((a) => now - a.at <= c.breakerWindowMs);
    const lapsed = this.held !== null && now - this.held.lastAt > c.maxAgeMs;
    const minRounds = Math.max(1, Math.floor(c.breakerConfirmMs / c.intervalMs / 2));
    let status: Expected['status'];
    if (price === null) {
      status = 'insufficient-sources';
      if (lapsed) this.held = null;
    } else if (
      this.last === null ||
      (within(this.last, price, c.circuitBreakerBps) &&
        this.accepted.every((a) => within(a.p, price, c.circuitBreakerBps))) ||
      backTowards(this.last, this.accepted[0]?.p, price, c.circuitBreakerBps)
    ) {
      status = 'ok';
      this.last = price;
      this.accepted.push({ at: now, p: price });
      this.held = null;
    } else if (this.held !== null && !lapsed && within(this.held.p, price, c.circuitBreakerBps)) {
      const h = this.held;
      h.lastAt = now;
      h.rounds++;
      if (price < h.low) h.low = price;
      if (price > h.high) h.high = price;
      if (
        h.rounds >= minRounds &&
        (c.breakerConfirmMs === 0 || now - h.since >= c.breakerConfirmMs)
      ) {
        status = 'ok';
        this.last = price;
        this.accepted = [h.p, h.low, h.high, price].map((p) => ({ at: now, p }));
        this.held = null;
      } else status = 'held';
    } else {
      status = 'held';
      this.held = { p: price, since: now, lastAt: now, rounds: 0, low: price, high: price };
    }
    return { price, survivors: survivors.length, used: survivors, status };
  }
}

/**
 * Whether the vault's ratio is under the liquidation ratio at `price`, exactly:
 * collateral × price × 10 000 < liquidationBps × debt × 1e8, so no rounding can hide a crossing.
 */
export function crosses(
  collateral: number,
  debt: number,
  price: bigint,
  liquidationRatioBps: number,
): boolean {
  if (debt <= 0) return false;
  return (
    BigInt(collateral) * price * 10_000n < BigInt(liquidationRatioBps) * BigInt(debt) * SATS_PER_BTC
  );
}
