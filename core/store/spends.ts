/**
 * The spends port: spends of vault coins — drafts, signatures, broadcasts, their tracking (the
 * rules of their moves are `core/spends/state.ts`'s and `core/spends/store.ts`'s), with the few
 * statements a spend's effects run on its vault.
 */
import type { SpendKind, SpendState } from '../spends/state';

export interface SpendRow {
  id: number;
  vault_id: number;
  kind: SpendKind;
  state: SpendState;
  plan: string;
  psbt: string;
  tx_hex: string | null;
  txid: string | null;
  destination: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  signing_by: string | null;
  cosign_price_cents: number | null;
}

/** Fields a move may set along with the state. */
export interface SpendPatch {
  psbt?: string;
  tx_hex?: string;
  txid?: string;
  signing_by?: string | null;
  cosign_price_cents?: number;
}

/** A vault's spend that is being signed or sent, as a vault's view shows it. */
export interface InFlightSpend {
  kind: string;
  txid: string | null;
  state: string;
}

/** A vault coin with enough confirmations to be spent. */
export interface ConfirmedCoinRow {
  txid: string;
  vout: number;
  amount_sats: number;
}

export interface SpendsRepo {
  get(id: number): SpendRow | undefined;
  /** The vault's newest open spend (it holds the vault), if any. */
  openFor(vaultId: number): SpendRow | undefined;
  /** Every open spend of the vault. */
  openAll(vaultId: number): SpendRow[];
  /** The vault's cancelled emergency exits last moved after `since`. */
  exitsCancelledSince(vaultId: number, since: number): SpendRow[];
  /** True while the outpoint is one of a vault's coins (vault_utxos). */
  isVaultCoin(txid: string, vout: number): boolean;
  /** Stores a spend as a draft; its id. `plan` is the plan's JSON. */
  insertDraft(
    vaultId: number,
    kind: SpendKind,
    plan: string,
    psbt: string,
    destination: string | null,
    ts: number,
    expiresAt: number | null,
    by: string,
  ): number;
  /**
   * Moves spend `id` from state `from` to `to` at `ts` with `patch`; false when it was not in
   * `from` any more (nothing changed).
   */
  moveState(id: number, from: SpendState, to: SpendState, ts: number, patch: SpendPatch): boolean;
  /** Spends in any of `states`, oldest first. */
  inStates(states: readonly SpendState[]): SpendRow[];
  /** The vault's spends in any of `states`, oldest first (its history: the (vault_id, id) index). */
  ofVault(vaultId: number, states: readonly SpendState[]): SpendRow[];
  /** Guardian requests waiting, and ones cancelled after `cancelledSince`, oldest first. */
  watchedGuardianRequests(cancelledSince: number): SpendRow[];
  /** Signed and broadcast spends, and ones confirmed after `confirmedSince`, oldest first. */
  tracked(confirmedSince: number): SpendRow[];
  /** Spends abandoned after `since` that had a transaction, oldest first. */
  droppedSince(since: number): SpendRow[];
  /** True when `txid` is a signed, broadcast or confirmed spend's transaction. */
  isOwnTransaction(txid: string): boolean;
  /** True when any spend has the transaction `txid`. */
  hasTransaction(txid: string): boolean;
  /** The vault's newest spend being signed or sent (past its draft), if any. */
  latestInFlight(vaultId: number): InFlightSpend | undefined;

  // Statements a spend's effects run on its vault (the vaults' tables):
  /** The vault is closed (its coins are spent). */
  closeVault(vaultId: number, ts: number): void;
  /** A closed vault is active again (a reorg undid the close). */
  reopenClosedVault(vaultId: number, ts: number): void;
  /** The vault's coins with at least `confirmations`, by txid and vout. */
  confirmedCoins(vaultId: number, confirmations: number): ConfirmedCoinRow[];
}
