/** The oracle port on SQLite (better-sqlite3). */
import type { NetworkName } from '../../config/networks';
import type { Sqlite } from '../../db/database';
import { Statements, type Statement } from './statements';
import type {
  AcceptedPrice,
  HistoryPoint,
  OracleRoundsRepo,
  RoundRecord,
  StoredRound,
} from '../oracle';
import {
  answerOutcomeFromRow,
  historyPointFromRow,
  toRound,
  type AnswerOutcomeRow,
  type AnswerRow,
  type HistoryRow,
  type RoundRow,
} from '../rows/oracle';

export class SqliteOracleRounds implements OracleRoundsRepo {
  private readonly statements: Statements;
  private saveTx: ((r: RoundRecord) => number) | null = null;

  constructor(readonly db: Sqlite) {
    this.statements = new Statements(db);
  }

  private st(sql: string, pluck = false): Statement {
    return this.statements.get(sql, pluck);
  }

  saveRound(record: RoundRecord): number {
    if (!this.saveTx) {
      const insertRound = this.db.prepare(
        `INSERT INTO price_rounds
         (network, ts, price_cents, median_cents, status, accepted, threshold, move_bps, sources_used)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const insertAnswer = this.db.prepare(
        `INSERT INTO price_answers (round_id, source, price_cents, source_ts, error, error_reason, dropped)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      this.saveTx = this.db.transaction((r: RoundRecord): number => {
        const { lastInsertRowid } = insertRound.run(
          r.network,
          r.ts,
          r.priceCents,
          r.medianCents,
          r.status,
          r.accepted ? 1 : 0,
          r.threshold,
          r.moveBps,
          JSON.stringify(r.sourcesUsed),
        );
        const id = Number(lastInsertRowid);
        for (const a of r.answers) {
          insertAnswer.run(
            id,
            a.source,
            a.priceCents,
            a.sourceTs,
            a.error,
            a.errorReason,
            a.dropped,
          );
        }
        return id;
      });
    }
    return this.saveTx(record);
  }

  lastAccepted(network: NetworkName): StoredRound | null {
    const row = this.st(
      `SELECT * FROM price_rounds WHERE network = ? AND accepted = 1 ORDER BY ts DESC, id DESC LIMIT 1`,
    ).get(network) as RoundRow | undefined;
    return row ? toRound(row, []) : null;
  }

  acceptedBefore(network: NetworkName, fromMs: number): AcceptedPrice[] {
    return this.st(
      `SELECT id, ts, price_cents AS cents FROM price_rounds
          WHERE network = ? AND accepted = 1 AND ts < ? ORDER BY ts DESC, id DESC LIMIT 1`,
    ).all(network, fromMs) as AcceptedPrice[];
  }

  acceptedFrom(network: NetworkName, fromMs: number): AcceptedPrice[] {
    return this.st(
      `SELECT id, ts, price_cents AS cents FROM price_rounds
          WHERE network = ? AND accepted = 1 AND ts >= ? ORDER BY ts, id`,
    ).all(network, fromMs) as AcceptedPrice[];
  }

  latestRound(network: NetworkName): StoredRound | null {
    const row = this.st(
      `SELECT * FROM price_rounds WHERE network = ? ORDER BY ts DESC, id DESC LIMIT 1`,
    ).get(network) as RoundRow | undefined;
    return row ? toRound(row, []) : null;
  }

  round(id: number): StoredRound | null {
    const row = this.st(`SELECT * FROM price_rounds WHERE id = ?`).get(id) as RoundRow | undefined;
    if (!row) return null;
    const answers = this.st(`SELECT * FROM price_answers WHERE round_id = ? ORDER BY rowid`).all(
      id,
    ) as AnswerRow[];
    return toRound(row, answers);
  }

  rounds(network: NetworkName, fromMs: number, toMs: number, limit: number): StoredRound[] {
    const rows = this.st(
      `SELECT * FROM price_rounds WHERE network = ? AND ts BETWEEN ? AND ? ORDER BY ts, id LIMIT ?`,
    ).all(network, fromMs, toMs, limit) as RoundRow[];
    return rows.map((r) => toRound(r, []));
  }

  history(network: NetworkName, fromMs: number, toMs: number, maxPoints: number): HistoryPoint[] {
    const span = toMs - fromMs + 1;
    const rows = this.st(
      `SELECT r.ts AS ts, r.price_cents AS price, b.lo AS lo, b.hi AS hi, b.n AS n
           FROM (SELECT MAX(id) AS last_id, MIN(price_cents) AS lo, MAX(price_cents) AS hi, COUNT(*) AS n
                   FROM price_rounds
                  WHERE network = ? AND accepted = 1 AND ts BETWEEN ? AND ?
                  GROUP BY ((ts - CAST(? AS INTEGER)) * CAST(? AS INTEGER)) / CAST(? AS INTEGER)) AS b
           JOIN price_rounds r ON r.id = b.last_id
          ORDER BY r.ts`,
    ).all(network, fromMs, toMs, fromMs, maxPoints, span) as HistoryRow[];
    return rows.map(historyPointFromRow);
  }

  lastRoundId(): number {
    return (this.st('SELECT COALESCE(MAX(id), 0) FROM price_rounds', true).get() as number) ?? 0;
  }

  answerOutcomesAfter(roundId: number): { roundId: number; source: string; outcome: string }[] {
    const rows = this.st(
      `SELECT round_id, source,
            CASE WHEN error IS NOT NULL THEN 'error:' || COALESCE(error_reason, 'other')
                 WHEN dropped IS NOT NULL THEN 'dropped:' || dropped
                 ELSE 'used' END AS outcome
       FROM price_answers WHERE round_id > ? ORDER BY round_id`,
    ).all(roundId) as AnswerOutcomeRow[];
    return rows.map(answerOutcomeFromRow);
  }

  roundStatusesAfter(roundId: number): { id: number; status: string }[] {
    return this.st('SELECT id, status FROM price_rounds WHERE id > ? ORDER BY id').all(roundId) as {
      id: number;
      status: string;
    }[];
  }
}
