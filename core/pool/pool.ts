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
import { BitStableError } from '../errors';
import { holderAccount } from '../ledger/bsusd';
import { cents, type Cents, type Sats } from '../money';
import { outputScript } from '../psbt/fees';
import type { Store } from '../store/ports';

export type { PoolDepositor } from '../store/pool';

/** A depositor's bsUSD in the pool. */
export const poolAccount = (accountId: string) => `pool:${accountId}`;

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
      store: Store;
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
  async deposit(
    accountId: string,
    amountCents: unknown,
    btcAddress?: unknown,
  ): Promise<PoolPosition> {
    const amount = this.positive(amountCents);
    const { store } = this.deps;
    const ts = this.now();
    await store.transaction(async () => {
      await store.ledger.ensureHolder(accountId);
      const known = await store.pool.depositAddress(accountId);
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
      await store.pool.upsertDepositor(accountId, (btcAddress as string | undefined) ?? known!, ts);
      await store.pool.openPoolAccount(poolAccount(accountId));
      await store.ledger.post(
        'pool_deposit',
        null,
        [
          [holderAccount(accountId), -amount],
          [poolAccount(accountId), amount],
        ],
        undefined,
        ts,
      );
    });
    return await this.position(accountId);
  }

  /** Takes `amountCents` (or all, with 'all') of the account's bsUSD back out of the pool. */
  async withdraw(accountId: string, amountCents: unknown): Promise<PoolPosition> {
    const { store } = this.deps;
    const ts = this.now();
    await store.transaction(async () => {
      const have = await store.ledger.balance(poolAccount(accountId));
      const amount = amountCents === 'all' ? have : this.positive(amountCents);
      if (amount === 0)
        throw new BitStableError('INVALID_AMOUNT', 'You have no bsUSD in the stability pool.', {});
      await store.ledger.ensureHolder(accountId);
      await store.ledger.post(
        'pool_withdraw',
        null,
        [
          [poolAccount(accountId), -amount],
          [holderAccount(accountId), amount],
        ],
        undefined,
        ts,
      );
    });
    return await this.position(accountId);
  }

  /** The pool, and the account's place in it. */
  async position(accountId: string): Promise<PoolPosition> {
    const { store } = this.deps;
    const total = await store.pool.totalCents();
    const depositors = await store.pool.depositorCount();
    const mine = await store.pool.takenBy(accountId);
    const auctions = await store.pool.auctionsTaken(accountId);
    return {
      totalCents: total as Cents,
      depositors,
      depositCents: (await store.ledger.balance(poolAccount(accountId))) as Cents,
      btcAddress: (await store.pool.depositAddress(accountId)) ?? null,
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
