/**
 * The auctions port: Liquidations, auctions and their takes, settlements, cures; the health pass's reads.
 * Also the few writes the auction side makes to a vault's row (its state as it enters, leaves
 * or ends a liquidation) and its reads of the vault's coins and settlement spend, under names
 * that say what they are for.
 */
import type { NetworkName } from '../config/networks';

/** A `liquidations` row: one auction of a vault's collateral. */
export interface LiquidationRow {
  id: number;
  vault_id: number;
  state: 'running' | 'settling' | 'settled';
  started_at: number;
  /** The accepted price that started the auction, and the vault's debt then. */
  price_cents: number;
  debt_cents: number;
  tab_cents: number;
  covered_cents: number;
  lot_sats: number;
  sold_sats: number;
  top_price_cents: number;
  floor_price_cents: number;
  cycle_started_at: number;
  duration_ms: number;
  resets: number;
  deficit_cents: number;
  return_address: string | null;
  settlement_txid: string | null;
  last_error: string | null;
  last_error_code: string | null;
  last_error_at: number | null;
  error_count: number;
  cured_at: number | null;
  /** When the tab was covered, the lot sold out, or nothing was left to sell. */
  ended_at: number | null;
}

/** A vault's latest live settlement spend: its transaction, state, plan (JSON) and last move. */
export interface SettlementSpendRow {
  txid: string | null;
  state: string;
  plan: string;
  updated_at: number;
}

/** A new auction, as the health pass starts it (state 'running', nothing sold). */
export interface NewLiquidation {
  vaultId: number;
  startedAt: number;
  priceCents: number;
  debtCents: number;
  tabCents: number;
  lotSats: number;
  topPriceCents: number;
  floorPriceCents: number;
  cycleStartedAt: number;
  durationMs: number;
  returnAddress: string | null;
}

/** One take of an auction's lot. */
export interface NewTake {
  liquidationId: number;
  taker: string;
  btcAddress: string;
  sats: number;
  paidCents: number;
  priceCents: number;
  ts: number;
  viaPool: boolean;
}

/** An auction whose settlement failed at least once and has not been made since. */
export interface FailingSettlementRow {
  id: number;
  vault_id: number;
  last_error_code: string;
  last_error: string;
  error_count: number;
}

/** A coin of a vault, as the lot is sized from it. */
export interface VaultCoinRow {
  txid: string;
  vout: number;
  amount_sats: number;
  confirmations: number;
}

/** The vaults whose band changes at an index price (see core/liquidation/health-pass.ts). */
export interface HealthChanges {
  toLiquidating: number[];
  toWarning: number[];
  toActive: number[];
}

/** What the health pass reads of a vault to check a candidate against its debt now. */
export interface VaultHealthRow {
  state: string;
  collateral_sats: number;
  debt_cents: number;
  debt_art: number;
}

export interface AuctionsRepo {
  // --- the health pass (the vault index) ---
  /** The index's candidates at price `p` (cents per BTC, at fee rate 1.0), by band change. */
  healthCandidatesAt(p: number): HealthChanges;
  /** A vault's state, collateral and debt, for the pass's exact check. */
  vaultHealth(vaultId: number): VaultHealthRow;
  /** Every vault as `[id, state, collateral_sats, debt_cents]` (the naive pass of the bench). */
  everyVaultBand(): [number, string, number, number][];
  /** Sets a vault's band (Warning, or back to Active) as the health pass moves it. */
  setVaultBand(vaultId: number, state: 'warning' | 'active', ts: number): void;

  // --- auctions ---
  /** Auctions, newest first; `live` only running ones. */
  list(live: boolean): LiquidationRow[];
  /** Every running auction. */
  running(): LiquidationRow[];
  /** Every auction whose settlement is due or in flight. */
  settling(): LiquidationRow[];
  byId(id: number): LiquidationRow | undefined;
  /** The vault's latest auction. */
  latestOf(vaultId: number): LiquidationRow | undefined;
  /** The vault's running auction. */
  runningOf(vaultId: number): LiquidationRow | undefined;
  /** Starts an auction (a `liquidations` row). */
  start(a: NewLiquidation): void;
  /** The vault enters its liquidation. */
  markVaultLiquidating(vaultId: number, ts: number): void;
  setLot(id: number, lotSats: number): void;
  /** A new cycle of the price fall from `top` (the resets count one more). */
  resetCycle(id: number, topPriceCents: number, floorPriceCents: number, ts: number): void;
  /** The auction ended: its settlement is due; `deficitCents` is the debt written off. */
  end(id: number, ts: number, deficitCents: number): void;
  recordTake(t: NewTake): void;
  /** The auction's cover, sold sats and lot after a take. */
  setProgress(id: number, coveredCents: number, soldSats: number, lotSats: number): void;
  /** Distinct addresses the auction's takes pay. */
  takerAddresses(id: number): string[];
  /** What the settlement pays, per address, in the order of the first take to it. */
  payouts(id: number): { btc_address: string; sats: number }[];
  /** The vault's coins (all of them; the caller filters held and unconfirmed ones). */
  vaultCoins(vaultId: number): VaultCoinRow[];
  /** The vault's latest live settlement spend, for the auction's view. */
  settlementSpendOf(vaultId: number): SettlementSpendRow | undefined;
  /** A spend of the vault that the settlement waits for (open, or a confirmed settlement). */
  spendBlockingSettlement(vaultId: number): number | undefined;
  /** Stores where the rest of the collateral goes (before it is used). */
  setReturnAddress(id: number, address: string): void;
  recordSettlementError(id: number, message: string, code: string, at: number): void;
  clearSettlementError(id: number): void;
  failingSettlements(): FailingSettlementRow[];

  // --- settlement state (called as the settlement spend confirms or is undone) ---
  /** The vault's settling auction. */
  settlingIdOf(vaultId: number): number | undefined;
  markSettled(id: number): void;
  /** The vault's coins went by the settlement: it is Liquidated. */
  markVaultLiquidated(vaultId: number, ts: number): void;
  /** The vault's auction that is not settled yet. */
  unsettledIdOf(vaultId: number): number | undefined;
  /** Ends the auction as settled, its coins gone another way: `deficitCents` more deficit. */
  endWithoutCoins(id: number, ts: number, deficitCents: number): void;
  /** A reorg undid the settlement: the Liquidated vault is Liquidating again. */
  unmarkVaultLiquidated(vaultId: number, ts: number): void;
  /** A reorg undid the settlement: the vault's last auction, if settled, is settling again. */
  reopenLatest(vaultId: number): void;

  // --- cures ---
  /** The running auction of a vault that no take has touched. */
  untouchedOf(vaultId: number): { id: number } | undefined;
  /** Ends a running, uncovered auction as cured. */
  markCured(id: number, ts: number): void;
  vaultNetwork(vaultId: number): NetworkName;
  /** The cured vault is Active again, its debt re-based at the fee rate now. */
  restoreCuredVault(
    vaultId: number,
    debtArt: number,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): void;
}
