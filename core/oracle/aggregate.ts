/**
 * One round's aggregation (SPEC §7), as a pure function of the answers, the time and what the
 * previous rounds saw of untimed sources:
 *
 * 1. **Clock skew.** With two or more answers that carry their own time, our clock's offset from
 *    the sources is estimated as the *largest* (source time − our time), clamped to
 *    ±`maxClockSkewMs`, and every timestamp is judged against our time plus that offset. The
 *    largest, because a stale source can only make its own offset smaller (it cannot push the
 *    fresh ones out as "future"), and a source lying ahead is bounded by the clamp (it can make
 *    the fresh ones look at most `maxClockSkewMs` older). So a local clock 6 s slow or 61 s fast
 *    no longer drops the timed exchanges.
 * 2. **Timely.** Refuse answers ahead of the corrected time by more than `futureSkewMs` or older
 *    than `maxAgeMs`. An answer without a time (Binance, Kraken) is timed by its receipt.
 * 3. **Frozen.** An untimed source whose value has not changed for `frozenAfterMs`, while the
 *    median of the live sources moved more than `frozenMoveBps` since that value first appeared,
 *    is frozen and left out: two frozen sources of four can no longer halve a live move (or,
 *    with outliers, drop every source in a fast one).
 * 4. **Outliers and median.** Drop prices more than `maxDeviationBps` from the median of the
 *    rest, take the median of the survivors, and require `threshold` of them.
 *
 * All comparisons are exact BigInt arithmetic on integer cents.
 */
import type { Cents } from '../money';
import type { SourceErrorReason } from './source-error';

/** What one source gave: a price, or an error. */
export type Answer =
  | {
      source: string;
      priceCents: Cents;
      sourceTs?: number | undefined;
      /** When we received it (default: the round's time). */
      receivedMs?: number | undefined;
    }
  | { source: string; error: { reason: SourceErrorReason; message: string } };

/** Why an answer was left out of the price. */
export type DropReason = 'error' | 'future' | 'too-old' | 'frozen' | 'outlier';

/** One answer after aggregation, as it is stored. */
export interface AnswerOutcome {
  source: string;
  priceCents: Cents | null;
  sourceTs: number | null;
  error: string | null;
  errorReason: SourceErrorReason | null;
  /** Why it was left out; null when its price was used. */
  dropped: DropReason | null;
}

export interface AggregateParams {
  /** The round's time, ms since epoch. */
  nowMs: number;
  /** An answer whose own timestamp is older than this is refused. */
  maxAgeMs: number;
  /** Allowed clock difference for timestamps ahead of ours. */
  futureSkewMs: number;
  /** Answers further than this from the median are outliers (200 = 2 %). */
  maxDeviationBps: number;
  /** Survivors required for a price. */
  threshold: number;
  /** The most our clock's offset from the sources is corrected by (0: no correction). */
  maxClockSkewMs?: number;
  /** An untimed value unchanged this long, while the others moved, is frozen. */
  frozenAfterMs?: number;
  /** How far the live median must have moved for an unchanged value to count as frozen. */
  frozenMoveBps?: number;
}

/** What the rounds so far saw of each untimed source: its value and since when it stood. */
export type FreezeState = ReadonlyMap<
  string,
  { cents: Cents; sinceMs: number; liveAtSince: bigint | null }
>;

export interface Aggregate {
  answers: AnswerOutcome[];
  /** Median of every timely price, before outliers were dropped. */
  medianCents: Cents | null;
  /** Median of the survivors; null when fewer than `threshold` survived. */
  priceCents: Cents | null;
  /** Sources whose price survived every check, in answer order (even when too few for a price). */
  survivors: string[];
  /** The offset applied to our clock (source time − ours), ms; null when not estimated. */
  clockSkewMs: number | null;
  /** The freeze state for the next round. */
  freeze: FreezeState;
}

/** Aggregates one round's answers into a price (or none). */
export function aggregate(
  answers: readonly Answer[],
  p: AggregateParams,
  freeze: FreezeState = new Map(),
): Aggregate {
  const skew = estimateSkew(answers, p);
  const outcomes: AnswerOutcome[] = answers.map((a) => {
    if ('error' in a) {
      return {
        source: a.source,
        priceCents: null,
        sourceTs: null,
        error: a.error.message,
        errorReason: a.error.reason,
        dropped: 'error',
      };
    }
    const ts = a.sourceTs ?? null;
    const now = (a.receivedMs ?? p.nowMs) + (skew ?? 0);
    let dropped: DropReason | null = null;
    if (ts !== null && ts > now + p.futureSkewMs) dropped = 'future';
    else if (ts !== null && now - ts > p.maxAgeMs) dropped = 'too-old';
    return {
      source: a.source,
      priceCents: a.priceCents,
      sourceTs: ts,
      error: null,
      errorReason: null,
      dropped,
    };
  });

  const nextFreeze = findFrozen(outcomes, p, freeze);
  const timely = outcomes.filter((o) => o.dropped === null);
  const median = medianOf(timely.map((o) => BigInt(o.priceCents!)));
  if (median === null)
    return {
      answers: outcomes,
      medianCents: null,
      priceCents: null,
      survivors: [],
      clockSkewMs: skew,
      freeze: nextFreeze,
    };

  const bps = BigInt(p.maxDeviationBps);
  for (const o of timely) {
    const price = BigInt(o.priceCents!);
    const diff = price > median ? price - median : median - price;
    // |p − m| / m > bps / 10 000, cross-multiplied so nothing is rounded; exactly 2 % stays.
    if (diff * 10_000n > bps * median) o.dropped = 'outlier';
  }
  const survivors = timely.filter((o) => o.dropped === null);
  const price =
    survivors.length >= p.threshold ? medianOf(survivors.map((o) => BigInt(o.priceCents!))) : null;
  return {
    answers: outcomes,
    medianCents: Number(median) as Cents,
    priceCents: price === null ? null : (Number(price) as Cents),
    survivors: survivors.map((o) => o.source),
    clockSkewMs: skew,
    freeze: nextFreeze,
  };
}

/** The largest (source time − receipt time) of two or more timed answers, clamped; else null. */
function estimateSkew(answers: readonly Answer[], p: AggregateParams): number | null {
  const bound = p.maxClockSkewMs ?? 0;
  if (bound === 0) return null;
  const offsets = answers.flatMap((a) =>
    'error' in a || a.sourceTs === undefined ? [] : [a.sourceTs - (a.receivedMs ?? p.nowMs)],
  );
  if (offsets.length < 2) return null;
  return Math.max(-bound, Math.min(bound, Math.max(...offsets)));
}

/**
 * Marks frozen untimed answers (`dropped = 'frozen'`, in place) and returns the next freeze
 * state. "Live" is every timely answer that is not an untimed value standing for
 * `frozenAfterMs`; its median is what a standing value is compared with.
 */
function findFrozen(
  outcomes: AnswerOutcome[],
  p: AggregateParams,
  freeze: FreezeState,
): FreezeState {
  const after = p.frozenAfterMs ?? 0;
  const moveBps = BigInt(p.frozenMoveBps ?? 0);
  const untimed = outcomes.filter((o) => o.dropped === null && o.sourceTs === null);
  const standing = new Set(
    untimed.filter((o) => {
      const st = freeze.get(o.source);
      return after > 0 && st?.cents === o.priceCents && p.nowMs - st.sinceMs >= after;
    }),
  );
  const live = medianOf(
    outcomes
      .filter((o) => o.dropped === null && !standing.has(o))
      .map((o) => BigInt(o.priceCents!)),
  );
  for (const o of standing) {
    const since = freeze.get(o.source)!.liveAtSince;
    if (since === null || live === null) continue;
    const diff = live > since ? live - since : since - live;
    if (diff * 10_000n > moveBps * since) o.dropped = 'frozen';
  }
  // Only this round's untimed answers are remembered: a source that failed, or now carries a
  // time, starts again, rather than being judged later against a long-gone live median.
  const next: Map<string, { cents: Cents; sinceMs: number; liveAtSince: bigint | null }> =
    new Map();
  for (const o of untimed) {
    const st = freeze.get(o.source);
    next.set(
      o.source,
      st?.cents === o.priceCents
        ? { ...st, liveAtSince: st.liveAtSince ?? live }
        : { cents: o.priceCents!, sinceMs: p.nowMs, liveAtSince: live },
    );
  }
  return next;
}

/** The median of integer prices; with an even count, the mean of the middle two, rounded half up. */
export function medianOf(values: readonly bigint[]): bigint | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = s.length >> 1;
  if (s.length % 2 === 1) return s[mid]!;
  return (s[mid - 1]! + s[mid]! + 1n) / 2n;
}
