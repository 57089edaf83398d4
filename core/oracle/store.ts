/**
 * Price history: every round with every source's answer, written in one transaction, and read
 * back for restarts, audits and charts. The statements are the store's (`store.oracle`,
 * core/store/oracle.ts); this checks the arguments and words the errors.
 */
import type { NetworkName } from '../config/networks';
import { BitStableError, invalidArgument } from '../errors';
import type { Cents } from '../money';
import type { HistoryPoint, RoundRecord, StoredRound } from '../store/oracle';
import type { Store } from '../store/ports';

export type { HistoryPoint, RoundRecord, StoredRound } from '../store/oracle';

// Enough for any chart; also keeps (ts − from) × maxPoints far inside SQLite's 64-bit integers.
const MAX_POINTS = 10_000;

/** Reads and writes oracle rounds; needs a database migrated to schema 2 or later. */
export class OracleStore {
  constructor(private readonly store: Store) {}

  /** Stores a round and all its answers atomically; returns the round id. */
  async saveRound(record: RoundRecord): Promise<number> {
    try {
      return await this.store.oracle.saveRound(record);
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
  async lastAccepted(network: NetworkName): Promise<StoredRound | null> {
    return await this.store.oracle.lastAccepted(network);
  }

  /**
   * Accepted prices from `fromMs` on, oldest first, with the last one before it (so the price in
   * effect at `fromMs` is known): what the breaker's window and the delayed price start from.
   */
  async acceptedSince(
    network: NetworkName,
    fromMs: number,
  ): Promise<{ id: number; ts: number; cents: Cents }[]> {
    const before = await this.store.oracle.acceptedBefore(network, fromMs);
    const since = await this.store.oracle.acceptedFrom(network, fromMs);
    return [...before, ...since];
  }

  /** The most recent round of a network, accepted or not, without its answers. */
  async latestRound(network: NetworkName): Promise<StoredRound | null> {
    return await this.store.oracle.latestRound(network);
  }

  /** One round with every source's answer, or null. */
  async round(id: number): Promise<StoredRound | null> {
    return await this.store.oracle.round(id);
  }

  /** Rounds (without answers) in [fromMs, toMs], oldest first, at most `limit`. */
  async rounds(
    network: NetworkName,
    fromMs: number,
    toMs: number,
    limit = 1000,
  ): Promise<StoredRound[]> {
    return await this.store.oracle.rounds(network, fromMs, toMs, limit);
  }

  /**
   * The accepted price in [fromMs, toMs] downsampled to at most `maxPoints` equal time buckets:
   * each point is the bucket's last price with its low and high, so spikes stay visible.
   */
  async history(
    network: NetworkName,
    fromMs: number,
    toMs: number,
    maxPoints: number,
  ): Promise<HistoryPoint[]> {
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
    return await this.store.oracle.history(network, fromMs, toMs, maxPoints);
  }
}
