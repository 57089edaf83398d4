/** The oracle port on PostgreSQL: the twin of `sqlite/oracle.ts`. */
import type { NetworkName } from '../../config/networks';
import type {
  AcceptedPrice,
  HistoryPoint,
  OracleRoundsRepo,
  RoundRecord,
  StoredRound,
} from '../oracle';
import type { Async } from '../ports';
import {
  answerOutcomeFromRow,
  historyPointFromRow,
  toRound,
  type AnswerOutcomeRow,
  type AnswerRow,
  type HistoryRow,
  type RoundRow,
} from '../rows/oracle';
import type { PgExecutor } from './executor';

const ROUND = `SELECT id, network, ts, price_cents, median_cents, status, accepted, threshold,
                      move_bps, sources_used FROM price_rounds`;

export class PgOracleRounds implements Async<OracleRoundsRepo> {
  constructor(private readonly x: PgExecutor) {}

  /**
   * The round and its answers in one statement, so atomic without a transaction of its own.
   * price_answers has no rowid: its heap order (ctid) is the order the answers were inserted in
   * (the table is only ever appended to), which `round` reads them back in, as SQLite's rowid.
   */
  async saveRound(r: RoundRecord): Promise<number> {
    const col = <K extends keyof RoundRecord['answers'][number]>(k: K) =>
      r.answers.map((a) => a[k]);
    return (await this.x.value<number>(
      `WITH r AS (
         INSERT INTO price_rounds
           (network, ts, price_cents, median_cents, status, accepted, threshold, move_bps, sources_used)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id),
       a AS (
         INSERT INTO price_answers (round_id, source, price_cents, source_ts, error, error_reason, dropped)
         SELECT r.id, s.source, s.price_cents, s.source_ts, s.error, s.error_reason, s.dropped
           FROM r, unnest($10::text[], $11::bigint[], $12::bigint[], $13::text[], $14::text[], $15::text[])
                   WITH ORDINALITY AS s(source, price_cents, source_ts, error, error_reason, dropped, n)
          ORDER BY s.n)
       SELECT id FROM r`,
      [
        r.network,
        r.ts,
        r.priceCents,
        r.medianCents,
        r.status,
        r.accepted ? 1 : 0,
        r.threshold,
        r.moveBps,
        JSON.stringify(r.sourcesUsed),
        col('source'),
        col('priceCents'),
        col('sourceTs'),
        col('error'),
        col('errorReason'),
        col('dropped'),
      ],
    ))!;
  }

  async lastAccepted(network: NetworkName): Promise<StoredRound | null> {
    const row = await this.x.row<RoundRow>(
      `${ROUND} WHERE network = $1 AND accepted = 1 ORDER BY ts DESC, id DESC LIMIT 1`,
      [network],
    );
    return row ? toRound(row, []) : null;
  }

  async acceptedBefore(network: NetworkName, fromMs: number): Promise<AcceptedPrice[]> {
    return this.x.rows<AcceptedPrice>(
      `SELECT id, ts, price_cents AS cents FROM price_rounds
          WHERE network = $1 AND accepted = 1 AND ts < $2 ORDER BY ts DESC, id DESC LIMIT 1`,
      [network, fromMs],
    );
  }

  async acceptedFrom(network: NetworkName, fromMs: number): Promise<AcceptedPrice[]> {
    return this.x.rows<AcceptedPrice>(
      `SELECT id, ts, price_cents AS cents FROM price_rounds
          WHERE network = $1 AND accepted = 1 AND ts >= $2 ORDER BY ts, id`,
      [network, fromMs],
    );
  }

  async latestRound(network: NetworkName): Promise<StoredRound | null> {
    const row = await this.x.row<RoundRow>(
      `${ROUND} WHERE network = $1 ORDER BY ts DESC, id DESC LIMIT 1`,
      [network],
    );
    return row ? toRound(row, []) : null;
  }

  async round(id: number): Promise<StoredRound | null> {
    const row = await this.x.row<RoundRow>(`${ROUND} WHERE id = $1`, [id]);
    if (!row) return null;
    const answers = await this.x.rows<AnswerRow>(
      `SELECT source, price_cents, source_ts, error, error_reason, dropped
         FROM price_answers WHERE round_id = $1 ORDER BY ctid`,
      [id],
    );
    return toRound(row, answers);
  }

  async rounds(
    network: NetworkName,
    fromMs: number,
    toMs: number,
    limit: number,
  ): Promise<StoredRound[]> {
    const rows = await this.x.rows<RoundRow>(
      `${ROUND} WHERE network = $1 AND ts BETWEEN $2 AND $3 ORDER BY ts, id LIMIT $4`,
      [network, fromMs, toMs, limit],
    );
    return rows.map((r) => toRound(r, []));
  }

  async history(
    network: NetworkName,
    fromMs: number,
    toMs: number,
    maxPoints: number,
  ): Promise<HistoryPoint[]> {
    const span = toMs - fromMs + 1;
    const rows = await this.x.rows<HistoryRow>(
      `SELECT r.ts AS ts, r.price_cents AS price, b.lo AS lo, b.hi AS hi, b.n AS n
           FROM (SELECT MAX(id) AS last_id, MIN(price_cents) AS lo, MAX(price_cents) AS hi, COUNT(*) AS n
                   FROM price_rounds
                  WHERE network = $1 AND accepted = 1 AND ts BETWEEN $2 AND $3
                  GROUP BY ((ts - $2::bigint) * $4::bigint) / $5::bigint) AS b
           JOIN price_rounds r ON r.id = b.last_id
          ORDER BY r.ts`,
      [network, fromMs, toMs, maxPoints, span],
    );
    return rows.map(historyPointFromRow);
  }

  async lastRoundId(): Promise<number> {
    return (await this.x.value<number>('SELECT COALESCE(MAX(id), 0) FROM price_rounds')) ?? 0;
  }

  async answerOutcomesAfter(
    roundId: number,
  ): Promise<{ roundId: number; source: string; outcome: string }[]> {
    // SQLite reads these through the primary key's index: by round, then source (bytewise).
    const rows = await this.x.rows<AnswerOutcomeRow>(
      `SELECT round_id, source,
            CASE WHEN error IS NOT NULL THEN 'error:' || COALESCE(error_reason, 'other')
                 WHEN dropped IS NOT NULL THEN 'dropped:' || dropped
                 ELSE 'used' END AS outcome
       FROM price_answers WHERE round_id > $1 ORDER BY round_id, source COLLATE "C"`,
      [roundId],
    );
    return rows.map(answerOutcomeFromRow);
  }

  async roundStatusesAfter(roundId: number): Promise<{ id: number; status: string }[]> {
    return this.x.rows<{ id: number; status: string }>(
      'SELECT id, status FROM price_rounds WHERE id > $1 ORDER BY id',
      [roundId],
    );
  }
}
