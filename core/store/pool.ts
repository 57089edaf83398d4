/**
 * The pool port: The stability pool: deposits, withdrawals, its takes and their split.
 * Each depositor's bsUSD in the pool is a ledger account of kind 'pool' (`pool:<account id>`);
 * the port opens those accounts and reads their totals (the postings are the ledger's).
 */
import type { Cents } from '../money';

/** A depositor with bsUSD in the pool. */
export interface PoolDepositor {
  accountId: string;
  btcAddress: string;
  balanceCents: Cents;
}

/** The pool's part in one auction, and the account's share of it. */
export interface PoolAuctionRow {
  auction_id: number;
  vault_id: number;
  pool_sats: number;
  pool_cents: number;
  your_sats: number;
  your_cents: number;
}

export interface PoolRepo {
  /** Depositors with bsUSD in the pool, in a fixed order (by account id). */
  depositors(): PoolDepositor[];
  /** Where the account's share of the pool's takes is paid, if it ever deposited. */
  depositAddress(accountId: string): string | undefined;
  /** Records (or changes) the account's payout address. */
  upsertDepositor(accountId: string, btcAddress: string, ts: number): void;
  /** Opens the ledger account `poolAccountId` (kind 'pool') if it is not open yet. */
  openPoolAccount(poolAccountId: string): void;
  /** All bsUSD in the pool (every 'pool' ledger account). */
  totalCents(): number;
  /** How many 'pool' ledger accounts hold bsUSD. */
  depositorCount(): number;
  /** What the pool's takes cost the account so far, and the sats they bought it. */
  takenBy(accountId: string): { cents: number; sats: number };
  /** The pool's share of each auction it took part in (newest first, at most 50). */
  auctionsTaken(accountId: string): PoolAuctionRow[];
}
