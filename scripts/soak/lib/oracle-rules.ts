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

/**
 * SPEC §7's aggregation: answers from the future (beyond the skew) or older than maxAge are not
 * timely; of the timely prices, those more than maxDeviation from their median are dropped; the
 * price is the median of the rest when at least `threshold` remain. Returns the survivors' indexes.
 */
export function aggregateByRule(
  answers: Injected[],
  now: number,
  c: OracleConfig,
): { price: bigint | null; survivors: number[] } {
  const timely = answers.flatMap((a, i) =>
    a.kind === 'price' &&
    (a.ts === undefined || (a.ts <= now + c.futureSkewMs && now - a.ts <= c.maxAgeMs))
      ? [{ i, p: BigInt(a.priceCents) }]
      : [],
  );
  const m = median(timely.map((t) => t.p));
  const survivors =
    m === null
      ? []
      : timely.filter(
          ({ p }) => (p > m ? p - m : m - p) * 10_000n <= BigInt(c.maxDeviationBps) * m,
        );
  const price = survivors.length >= c.threshold ? median(survivors.map((t) => t.p)) : null;
  return { price, survivors: survivors.map((t) => t.i) };
}

export interface Expected {
  price: bigint | null;
  survivors: number;
  status: 'ok' | 'held' | 'insufficient-sources';
}

/** Replays the breaker across a scenario's rounds: ok, held, or short of sources. */
export class Referee {
  private last: bigint | null = null;
  private held: bigint | null = null;

  constructor(private readonly c: OracleConfig) {}

  /** The price a round must produce from these answers at `now`, and its fate at the breaker. */
  round(answers: Injected[], now: number): Expected {
    const c = this.c;
    const { price, survivors } = aggregateByRule(answers, now, c);
    let status: Expected['status'];
    if (price === null) {
      status = 'insufficient-sources';
      this.held = null;
    } else if (
      this.last === null ||
      within(this.last, price, c.circuitBreakerBps) ||
      (this.held !== null && within(this.held, price, c.circuitBreakerBps))
    ) {
      status = 'ok';
      this.last = price;
      this.held = null;
    } else {
      status = 'held';
      this.held = price;
    }
    return { price, survivors: survivors.length, status };
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
