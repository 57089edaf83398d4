/**
 * The oracle port: oracle rounds and their answers; price history. (`OracleStore`,
 * core/oracle/store.ts, is what the oracle uses: it checks arguments and words errors.)
 */
import type { NetworkName } from '../config/networks';
import type { Cents } from '../money';
import type { AnswerOutcome } from '../oracle/aggregate';
import type { RoundStatus } from '../oracle/breaker';

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

/** An accepted price, by round. */
export interface AcceptedPrice {
  id: number;
  ts: number;
  cents: Cents;
}

export interface OracleRoundsRepo {
  /** Stores a round and all its answers atomically (one transaction); returns the round id. */
  saveRound(record: RoundRecord): number;
  /** The most recent accepted round of a network, without its answers. */
  lastAccepted(network: NetworkName): StoredRound | null;
  /** The last accepted price before `fromMs` (none or one). */
  acceptedBefore(network: NetworkName, fromMs: number): AcceptedPrice[];
  /** Accepted prices from `fromMs` on, oldest first. */
  acceptedFrom(network: NetworkName, fromMs: number): AcceptedPrice[];
  /** The most recent round of a network, accepted or not, without its answers. */
  latestRound(network: NetworkName): StoredRound | null;
  /** One round with every source's answer, or null. */
  round(id: number): StoredRound | null;
  /** Rounds (without answers) in [fromMs, toMs], oldest first, at most `limit`. */
  rounds(network: NetworkName, fromMs: number, toMs: number, limit: number): StoredRound[];
  /**
   * The accepted price in [fromMs, toMs] (fromMs ≤ toMs, whole ms) in `maxPoints` equal time
   * buckets: each bucket's last price with its low and high, oldest first.
   */
  history(network: NetworkName, fromMs: number, toMs: number, maxPoints: number): HistoryPoint[];

  // Metrics readings: read incrementally, by round id.
  /** The highest round id (0 before the first round). */
  lastRoundId(): number;
  /** Each source's answer outcome in rounds after `roundId` (used, dropped:<why>, error:<kind>). */
  answerOutcomesAfter(roundId: number): { roundId: number; source: string; outcome: string }[];
  /** The status of each round after `roundId`, by id. */
  roundStatusesAfter(roundId: number): { id: number; status: string }[];
}
