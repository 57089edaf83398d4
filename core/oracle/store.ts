/**
 * Price history in SQLite: every round with every source's answer, written in one transaction,
 * and read back for restarts, audits and charts.
 */
import type { NetworkName } from '../config/networks';
import type { Sqlite } from '../db/database';
import { BitStableError, invalidArgument } from '../errors';
import type { Cents } from '../money';
import type { AnswerOutcome, DropReason } from './aggregate';
import type { RoundStatus } from './breaker';
import type { SourceErrorReason } from './source-error';

/** Everything about one round, as it is stored. */
export interface RoundRecord {
  network: NetworkName;
  /** When the round finished, ms since epoch. */
  ts: number;
  /** The round's aggregated price (accepted or not); null when too few sources survived. */
  priceCents: Cents | null;
  medianCents: Cents | null;
  status: RoundStatus;
  accepted: boolean;
  threshold: number;
  moveBps: number | null;
  sourcesUsed: string[];
  answers: AnswerOutcome[];
}

/** A stored round, with its id. */
export interface StoredRound extends RoundRecord {
  id: number;
}

/** One chart point: the last accepted price in a time bucket, with the bucket's range. */
export interface HistoryPoint {
  ts: number;
  priceCents: Cents;
  lowCents: Cents;
  highCents: Cents;
  rounds: number;
}

// Enough for any chart; also keeps (ts − from) × maxPoints far inside SQLite's 64-bit integers.
const MAX_POINTS = 10_000;

interface RoundRow {
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

interface AnswerRow {
  source: string;
  price_cents: number | null;
  source_ts: number | null;
  error: string | null;
  error_reason: string | null;
  dropped: string | null;
}

/** Reads and writes oracle rounds; needs a database migrated to schema 2 or later. */
export class OracleStore {
  private readonly insertRound;
  private readonly insertAnswer;
  private readonly saveTx;

  constructor(private readonly db: Sqlite) {
    this.insertRound = db.prepare(
      `INSERT INTO price_rounds
         (network, ts, price_cents, median_cents, status, accepted, threshold, move_bps, sources_used)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertAnswer = db.prepare(
      `INSERT INTO price_answers (round_id, source, price_cents, source_ts, error, error_reason, dropped)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.saveTx = db.transaction((r: RoundRecord): number => {
      const { lastInsertRowid } = this.insertRound.run(
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
        this.insertAnswer.run(
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

  /** Stores a round and all its answers atomically; returns the round id. */
  saveRound(record: RoundRecord): number {
    try {
      return this.saveTx(record);
    } catch (err) {
      throw new BitStableError(
        'DATABASE_ERROR',
        'Could not store a price round; the round was discarded.',
        {},
        { cause: err },
      );
    }
  }

  /** The most recent accepted round of a network, without its answers. */
  lastAccepted(network: NetworkName): StoredRound | null {
    const row = this.db
      .prepare(
        `SELECT * FROM price_rounds WHERE network = ? AND accepted = 1 ORDER BY ts DESC, id DESC LIMIT 1`,
      )
      .get(network) as RoundRow | undefined;
    return row ? toRound(row, []) : null;
  }

  /**
   * Accepted prices from `fromMs` on, oldest first, with the last one before it (so the price in
   * effect at `fromMs` is known): what the breaker's window and the delayed price start from.
   */
  acceptedSince(network: NetworkName, fromMs: number): { id: number; ts: number; cents: Cents }[] {
    const before = this.db
      .prepare(
        `SELECT id, ts, price_cents AS cents FROM price_rounds
          WHERE network = ? AND accepted = 1 AND ts < ? ORDER BY ts DESC, id DESC LIMIT 1`,
      )
      .all(network, fromMs) as { id: number; ts: number; cents: Cents }[];
    const since = this.db
      .prepare(
        `SELECT id, ts, price_cents AS cents FROM price_rounds
          WHERE network = ? AND accepted = 1 AND ts >= ? ORDER BY ts, id`,
      )
      .all(network, fromMs) as { id: number; ts: number; cents: Cents }[];
    return [...before, ...since];
  }

  /** The most recent round of a network, accepted or not, without its answers. */
  latestRound(network: NetworkName): StoredRound | null {
    const row = this.db
      .prepare(`SELECT * FROM price_rounds WHERE network = ? ORDER BY ts DESC, id DESC LIMIT 1`)
      .get(network) as RoundRow | undefined;
    return row ? toRound(row, []) : null;
  }

  /** One round with every source's answer, or null. */
  round(id: number): StoredRound | null {
    const row = this.db.prepare(`SELECT * FROM price_rounds WHERE id = ?`).get(id) as
      RoundRow | undefined;
    if (!row) return null;
    const answers = this.db
      .prepare(`SELECT * FROM price_answers WHERE round_id = ? ORDER BY rowid`)
      .all(id) as AnswerRow[];
    return toRound(row, answers);
  }

  /** Rounds (without answers) in [fromMs, toMs], oldest first, at most `limit`. */
  rounds(network: NetworkName, fromMs: number, toMs: number, limit = 1000): StoredRound[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM price_rounds WHERE network = ? AND ts BETWEEN ? AND ? ORDER BY ts, id LIMIT ?`,
      )
      .all(network, fromMs, toMs, limit) as RoundRow[];
    return rows.map((r) => toRound(r, []));
  }

  /**
   * The accepted price in [fromMs, toMs] downsampled to at most `maxPoints` equal time buckets:
   * each point is the bucket's last price with its low and high, so spikes stay visible.
   */
  history(network: NetworkName, fromMs: number, toMs: number, maxPoints: number): HistoryPoint[] {
    if (
      ![fromMs, toMs, maxPoints].every(Number.isSafeInteger) ||
      maxPoints < 1 ||
      maxPoints > MAX_POINTS
    ) {
      throw invalidArgument(
        `A price history needs whole-millisecond times and 1 to ${MAX_POINTS} points; got ${fromMs}, ${toMs}, ${maxPoints}.`,
        { fromMs, toMs, maxPoints },
      );
    }
    if (toMs < fromMs) return [];
    const span = toMs - fromMs + 1;
    const rows = this.db
      .prepare(
        `SELECT r.ts AS ts, r.price_cents AS price, b.lo AS lo, b.hi AS hi, b.n AS n
           FROM (SELECT MAX(id) AS last_id, MIN(price_cents) AS lo, MAX(price_cents) AS hi, COUNT(*) AS n
                   FROM price_rounds
                  WHERE network = ? AND accepted = 1 AND ts BETWEEN ? AND ?
                  GROUP BY ((ts - CAST(? AS INTEGER)) * CAST(? AS INTEGER)) / CAST(? AS INTEGER)) AS b
           JOIN price_rounds r ON r.id = b.last_id
          ORDER BY r.ts`,
      )
      .all(network, fromMs, toMs, fromMs, maxPoints, span) as {
      ts: number;
      price: number;
      lo: number;
      hi: number;
      n: number;
    }[];
    return rows.map((r) => ({
      ts: r.ts,
      priceCents: r.price as Cents,
      lowCents: r.lo as Cents,
      highCents: r.hi as Cents,
      rounds: r.n,
    }));
  }
}

function toRound(row: RoundRow, answers: AnswerRow[]): StoredRound {
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

function parseSources(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}
