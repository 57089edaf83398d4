/** The oracle tables' rows as both adapters read them (sqlite/oracle.ts, pg/oracle.ts). */
import type { NetworkName } from '../../config/networks';
import type { Cents } from '../../money';
import type { DropReason } from '../../oracle/aggregate';
import type { RoundStatus } from '../../oracle/breaker';
import type { SourceErrorReason } from '../../oracle/source-error';
import type { HistoryPoint, StoredRound } from '../oracle';

/** A `price_rounds` row. */
export interface RoundRow {
  id: number;
  network: NetworkName;
  ts: number;
  price_cents: number | null;
  median_cents: number | null;
  status: RoundStatus;
  accepted: 0 | 1;
  threshold: number | null;
  move_bps: number | null;
  sources_used: string;
}

/** A `price_answers` row (the columns a round reads). */
export interface AnswerRow {
  source: string;
  price_cents: number | null;
  source_ts: number | null;
  error: string | null;
  error_reason: string | null;
  dropped: string | null;
}

/** A row of the price history statement: one time bucket. */
export interface HistoryRow {
  ts: number;
  price: number;
  lo: number;
  hi: number;
  n: number;
}

/** A row of the answer outcomes statement. */
export interface AnswerOutcomeRow {
  round_id: number;
  source: string;
  outcome: string;
}

/** Maps a round's row and its answers' rows to a StoredRound. */
export function toRound(row: RoundRow, answers: AnswerRow[]): StoredRound {
  return {
    id: row.id,
    network: row.network,
    ts: row.ts,
    priceCents: row.price_cents as Cents | null,
    medianCents: row.median_cents as Cents | null,
    status: row.status,
    accepted: row.accepted === 1,
    threshold: row.threshold ?? 1,
    moveBps: row.move_bps,
    sourcesUsed: parseSources(row.sources_used),
    answers: answers.map((a) => ({
      source: a.source,
      priceCents: a.price_cents as Cents | null,
      sourceTs: a.source_ts,
      error: a.error,
      errorReason: a.error_reason as SourceErrorReason | null,
      dropped: a.dropped as DropReason | null,
    })),
  };
}

/** Maps a history row to a HistoryPoint. */
export const historyPointFromRow = (r: HistoryRow): HistoryPoint => ({
  ts: r.ts,
  priceCents: r.price as Cents,
  lowCents: r.lo as Cents,
  highCents: r.hi as Cents,
  rounds: r.n,
});

/** Maps an answer outcome row to the port's shape. */
export const answerOutcomeFromRow = (
  a: AnswerOutcomeRow,
): { roundId: number; source: string; outcome: string } => ({
  roundId: a.round_id,
  source: a.source,
  outcome: a.outcome,
});

/** The stored JSON list of sources used; [] when it is not one. */
function parseSources(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}
