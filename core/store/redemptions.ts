/**
 * The redemptions port: redemptions and their on-chain payouts (migration 010), with the reads of
 * the vaults a redemption takes from (see `core/redemptions/desk.ts`).
 */
import type { Sats } from '../money';

export interface OwedPayout {
  id: number;
  redemptionId: number;
  /** The redeemer's address. */
  address: string;
  sats: Sats;
}

/** A stored redemption. */
export interface RedemptionRow {
  id: number;
  account_id: string;
  btc_address: string;
  redeemed_cents: number;
  fee_cents: number;
  price_cents: number;
  sats: number;
  created_at: number;
}

/** A redemption candidate as the index reads it. */
export interface CandidateRow {
  id: number;
  collateral_sats: number;
  liquidation_price_cents: number;
}

/** A payout of one redemption (its txid: paid, or that of its signed spend). */
export interface PayoutRow {
  id: number;
  vault_id: number;
  debt_cents: number;
  sats: number;
  state: 'owed' | 'paid';
  txid: string | null;
}

/** A payout a vault made, with its redemption's price and time. */
export interface VaultPayoutRow {
  id: number;
  redemption_id: number;
  debt_cents: number;
  sats: number;
  state: 'owed' | 'paid';
  txid: string | null;
  price_cents: number;
  created_at: number;
}

/** An owed payout to send. */
export interface OwedToSend {
  id: number;
  vault_id: number;
  sats: number;
  btc_address: string;
}

export interface RedemptionsRepo {
  /**
   * The payouts the vault owes redeemers, oldest first. Usually one at most, but a reorg can put
   * a paid one back to owed beside a newer one.
   */
  owedPayouts(vaultId: number): OwedPayout[];
  /** Bitcoin the vault owes that no signed (or sent, or confirmed) spend carries yet. */
  owedUnsentSats(vaultId: number): Sats;
  /** True when the vault owes a payout. */
  isOwed(vaultId: number): boolean;
  /** A payout the vault owes (id and sats), if any. */
  owedBy(vaultId: number): { id: number; sats: number } | undefined;
  /** Every owed payout with its address, oldest first. */
  owedToSend(): OwedToSend[];

  /**
   * One page (32) of redemption candidates in `state`, lowest ratio (highest index key) first,
   * after (key, id): a range scan of the vaults' (state, liquidation price) index.
   */
  candidatesPage(state: string, network: string, key: number, afterId: number): CandidateRow[];

  /** Stores a redemption; its id. */
  insertRedemption(
    accountId: string,
    btcAddress: string,
    redeemedCents: number,
    feeCents: number,
    priceCents: number,
    sats: number,
    ts: number,
  ): number;
  /** Stores a payout the vault owes. */
  insertOwedPayout(redemptionId: number, vaultId: number, debtCents: number, sats: number): void;
  /** A redeemed vault's collateral, debt, state and index keys after its slice (vaults table). */
  setRedeemedVault(
    vaultId: number,
    collateralSats: number,
    debtCents: number,
    debtArt: number,
    state: string,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): void;

  /** The spend that pays the payout now. */
  setPayoutSpend(payoutId: number, spendId: number): void;
  /** Owed → paid by `spendId`'s transaction; false when it was not owed. */
  markPaid(payoutId: number | undefined, txid: string | null, spendId: number, ts: number): boolean;
  /** Paid by `spendId` → owed again (a reorg undid it). */
  markUnpaid(payoutId: number | undefined, spendId: number): void;

  get(id: number): RedemptionRow | undefined;
  /** An account's redemptions, newest first. */
  listFor(accountId: string, limit: number): RedemptionRow[];
  /** The payouts a vault made, newest first. */
  forVault(vaultId: number, limit: number): VaultPayoutRow[];
  /** A redemption's payouts, in order. */
  payoutsOf(redemptionId: number): PayoutRow[];
}
