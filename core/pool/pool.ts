/**
 * The stability pool (SPEC §8.5; issue "The peg and the price" item 4): bsUSD holders deposit
 * bsUSD that takes auctions nobody else takes, at their floor, so liquidations complete even with
 * no bidders (the lesson of Black Thursday).
 *
 * Each depositor's bsUSD in the pool is their own ledger account, `pool:<account id>`, so what
 * the pool spends on a take is split exactly, pro rata, by the take itself: at an auction's
 * floor the auction house buys, for each depositor, their share of what the pool can take,
 * with their own deposit, paid to their own address by the auction's settlement like any other
 * take (core/liquidation/auction-house.ts `poolTakeAtFloor`). The choice: paid out in the
 * settlement, not credited for a sweep — the bitcoin never sits in a protocol-held address, and
 * the settlement already pays many takers at once. A share whose bitcoin would be dust is left
 * for the next round of the same auction.
 */
import type { NetworkInfo } from '../config/networks';
import type { Sqlite } from '../db/database';
import { BitStableError } from '../errors';
import { balance, ensureHolder, holderAccount, post } from '../ledger/bsusd';
import { cents, type Cents, type Sats } from '../money';
import { outputScript } from '../psbt/fees';

/** A depositor's bsUSD in the pool. */
export const poolAccount = (accountId: string) => `pool:${accountId}`;

export interface PoolDepositor {
  accountId: string;
  btcAddress: string;
  balanceCents: Cents;
}

/** Depositors with bsUSD in the pool, in a fixed order (by account id). */
export function poolDepositors(db: Sqlite): PoolDepositor[] {
  return (
    db
      .prepare(
        `SELECT d.account_id, d.btc_address, a.balance_cents FROM pool_depositors d
           JOIN ledger_accounts a ON a.id = 'pool:' || d.account_id
          WHERE a.balance_cents > 0 ORDER BY d.account_id`,
      )
      .all() as { account_id: string; btc_address: string; balance_cents: number }[]
  ).map((r) => ({
    accountId: r.account_id,
    btcAddress: r.btc_address,
    balanceCents: r.balance_cents as Cents,
  }));
}

export interface PoolPosition {
  /** All bsUSD in the pool. */
  totalCents: Cents;
  depositors: number;
  /** Yours, and where your bitcoin goes. */
  depositCents: Cents;
  btcAddress: string | null;
  /** What the pool's takes cost you so far, and the bitcoin they bought you. */
  spentCents: Cents;
  gainedSats: Sats;
  /** The pool's share of each auction it took part in, newest first. */
  auctions: {
    auctionId: number;
    vaultId: number;
    poolSats: Sats;
    poolCents: Cents;
    yourSats: Sats;
    yourCents: Cents;
  }[];
}

export class StabilityPool {
  constructor(
    private readonly deps: {
      db: Sqlite;
      network: NetworkInfo;
      clock?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /**
   * Moves `amountCents` of the account's bsUSD into the pool (one `pool_deposit` entry); the
   * bitcoin its share of takes buys is paid to `btcAddress` (given the first time, or to change
   * it). INSUFFICIENT_BALANCE, and nothing changed, past what the account holds.
   */
  deposit(accountId: string, amountCents: unknown, btcAddress?: unknown): PoolPosition {
    const amount = this.positive(amountCents);
    const { db } = this.deps;
    const ts = this.now();
    db.transaction(() => {
      ensureHolder(db, accountId);
      const known = db
        .prepare('SELECT btc_address FROM pool_depositors WHERE account_id = ?')
        .pluck()
        .get(accountId) as string | undefined;
      if (btcAddress !== undefined) {
        if (typeof btcAddress !== 'string' || btcAddress.length === 0 || btcAddress.length > 100)
          throw new BitStableError('INVALID_ADDRESS', 'Give a Bitcoin address for your share.', {});
        outputScript(btcAddress, this.deps.network);
      } else if (!known) {
        throw new BitStableError(
          'INVALID_ADDRESS',
          'Give a Bitcoin address: the settlements of the auctions the pool takes pay your share there.',
          {},
        );
      }
      db.prepare(
        `INSERT INTO pool_depositors (account_id, btc_address, created_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id) DO UPDATE SET btc_address = excluded.btc_address, updated_at = excluded.updated_at`,
      ).run(accountId, (btcAddress as string | undefined) ?? known!, ts, ts);
      db.prepare("INSERT OR IGNORE INTO ledger_accounts (id, kind) VALUES (?, 'pool')").run(
        poolAccount(accountId),
      );
      post(
        db,
        'pool_deposit',
        null,
        [
          [holderAccount(accountId), -amount],
          [poolAccount(accountId), amount],
        ],
        undefined,
        ts,
      );
    })();
    return this.position(accountId);
  }

  /** Takes `amountCents` (or all, with 'all') of the account's bsUSD back out of the pool. */
  withdraw(accountId: string, amountCents: unknown): PoolPosition {
    const { db } = this.deps;
    const ts = this.now();
    db.transaction(() => {
      const have = balance(db, poolAccount(accountId));
      const amount = amountCents === 'all' ? have : this.positive(amountCents);
      if (amount === 0)
        throw new BitStableError('INVALID_AMOUNT', 'You have no bsUSD in the stability pool.', {});
      ensureHolder(db, accountId);
      post(
        db,
        'pool_withdraw',
        null,
        [
          [poolAccount(accountId), -amount],
          [holderAccount(accountId), amount],
        ],
        undefined,
        ts,
      );
    })();
    return this.position(accountId);
  }

  /** The pool, and the account's place in it. */
  position(accountId: string): PoolPosition {
    const { db } = this.deps;
    const total = db
      .prepare("SELECT COALESCE(SUM(balance_cents), 0) FROM ledger_accounts WHERE kind = 'pool'")
      .pluck()
      .get() as number;
    const depositors = db
      .prepare("SELECT COUNT(*) FROM ledger_accounts WHERE kind = 'pool' AND balance_cents > 0")
      .pluck()
      .get() as number;
    const mine = db
      .prepare(
        'SELECT COALESCE(SUM(paid_cents), 0) AS cents, COALESCE(SUM(sats), 0) AS sats FROM auction_takes WHERE taker = ? AND via_pool = 1',
      )
      .get(accountId) as { cents: number; sats: number };
    const auctions = db
      .prepare(
        `SELECT t.liquidation_id AS auction_id, l.vault_id, SUM(t.sats) AS pool_sats, SUM(t.paid_cents) AS pool_cents,
                SUM(CASE WHEN t.taker = ? THEN t.sats ELSE 0 END) AS your_sats,
                SUM(CASE WHEN t.taker = ? THEN t.paid_cents ELSE 0 END) AS your_cents
           FROM auction_takes t JOIN liquidations l ON l.id = t.liquidation_id
          WHERE t.via_pool = 1 GROUP BY t.liquidation_id ORDER BY t.liquidation_id DESC LIMIT 50`,
      )
      .all(accountId, accountId) as {
      auction_id: number;
      vault_id: number;
      pool_sats: number;
      pool_cents: number;
      your_sats: number;
      your_cents: number;
    }[];
    return {
      totalCents: total as Cents,
      depositors,
      depositCents: balance(db, poolAccount(accountId)) as Cents,
      btcAddress:
        (db
          .prepare('SELECT btc_address FROM pool_depositors WHERE account_id = ?')
          .pluck()
          .get(accountId) as string | undefined) ?? null,
      spentCents: mine.cents as Cents,
      gainedSats: mine.sats as Sats,
      auctions: auctions.map((a) => ({
        auctionId: a.auction_id,
        vaultId: a.vault_id,
        poolSats: a.pool_sats as Sats,
        poolCents: a.pool_cents as Cents,
        yourSats: a.your_sats as Sats,
        yourCents: a.your_cents as Cents,
      })),
    };
  }

  private positive(value: unknown): Cents {
    const amount = cents(value);
    if (amount === 0)
      throw new BitStableError('INVALID_AMOUNT', 'The amount must be more than 0.', {});
    return amount;
  }
}
