/**
 * One round's aggregation (SPEC §7), as a pure function of the answers and the time:
 * refuse answers from the future or too old, drop those more than `maxDeviationBps` from the
 * median, take the median of the rest, and require `threshold` survivors.
 * All comparisons are exact BigInt arithmetic on integer cents.
 */
import type { Cents } from '../money';
import type { SourceErrorReason } from './source-error';

/** What one source gave: a price, or an error. */
export type Answer =
  | { source: string; priceCents: Cents; sourceTs?: number | undefined }
  | { source: string; error: { reason: SourceErrorReason; message: string } };

/** Why an answer was left out of the price. */
export type DropReason = 'error' | 'future' | 'too-old' | 'outlier';

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
}

export interface Aggregate {
  answers: AnswerOutcome[];
  /** Median of every timely price, before outliers were dropped. */
  medianCents: Cents | null;
  /** Median of the survivors; null when fewer than `threshold` survived. */
  priceCents: Cents | null;
  /** Sources whose price survived every check, in answer order (even when too few for a price). */
  survivors: string[];
}

/** Aggregates one round's answers into a price (or none). */
export function aggregate(answers: readonly Answer[], p: AggregateParams): Aggregate {
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
    let dropped: DropReason | null = null;
    if (ts !== null && ts > p.nowMs + p.futureSkewMs) dropped = 'future';
    else if (ts !== null && p.nowMs - ts > p.maxAgeMs) dropped = 'too-old';
    return {
      source: a.source,
      priceCents: a.priceCents,
      sourceTs: ts,
      error: null,
      errorReason: null,
      dropped,
    };
  });

  const timely = outcomes.filter((o) => o.dropped === null);
  const median = medianOf(timely.map((o) => BigInt(o.priceCents!)));
  if (median === null)
    return { answers: outcomes, medianCents: null, priceCents: null, survivors: [] };

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
  };
}

/** The median of integer prices; with an even count, the mean of the middle two, rounded half up. */
export function medianOf(values: readonly bigint[]): bigint | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = s.length >> 1;
  if (s.length % 2 === 1) return s[mid]!;
  return (s[mid - 1]! + s[mid]! + 1n) / 2n;
}
