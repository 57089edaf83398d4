/**
 * The vaults port: Vaults, key sets, their coins and debt; the stability fee book; ceilings.
 * The statements behind it are the services' (core/vaults/), moved, not rewritten; the rules
 * around them (which state, which checks, which transaction) stay in the services.
 */
import type { Cents, Sats } from '../money';
import type { NetworkName } from '../config/networks';
import type { VaultState } from '../vaults/state';
import type { EntryKind } from './ledger';

/** One posting to a vault's ledger account: when, how much (− as the debt grows), and its entry's kind. */
export interface DebtStep {
  ts: number;
  amount: number;
  kind: EntryKind;
}

export interface Vault {
  id: number;
  keySetId: number;
  index: number;
  network: NetworkName;
  address: string;
  descriptor: string;
  state: VaultState;
  /** Confirmed collateral: the vault's coins with enough confirmations. */
  collateralSats: Sats;
  /** Seen at the address but not yet confirmed deeply enough. */
  incomingSats: Sats;
  /** The debt as booked in the ledger (core/vaults/fee-book.ts `debtNow` adds what accrued since). */
  debtCents: Cents;
  /** The normalized debt: millionths of a cent at fee rate 1.0 (core/vaults/fee.ts). */
  debtArt: number;
  /** Stability fee booked on this vault so far. */
  feesCents: Cents;
  /** The index keys of the health pass: threshold prices of the normalized debt (at rate 1.0). */
  liquidationPriceCents: Cents | null;
  warningPriceCents: Cents | null;
  plannedDepositSats: Sats | null;
  /** Where the rest of the collateral goes if the vault is liquidated. */
  returnAddress: string | null;
  label: string | null;
  /** The account the vault belongs to (SPEC §3); null only before the node's first start with accounts. */
  accountId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface KeySetRow {
  id: number;
  network: NetworkName;
  ownerKey: string;
  protocolKey: string;
  guardianKey: string;
  nextIndex: number;
  /** The watch-only wallet watches the set's ranged descriptor for indexes below this. */
  watchedEnd: number;
  createdAt: number;
}

/** A new vault, as `createVault` stores it (state Pending). */
export interface NewVault {
  keySetId: number;
  index: number;
  network: NetworkName;
  address: string;
  descriptor: string;
  plannedDepositSats: Sats | null;
  returnAddress: string | null;
  label: string | null;
  accountId: string | null;
  createdAt: number;
}

/** What narrows the vault list (VaultsRepo.listPage). */
export interface VaultListFilter {
  state?: string;
  hideEmptyPending: boolean;
  /** A vault id (or a part of a label), a part of a label or address, or the vaults of a txid. */
  search?:
    | { kind: 'id'; id: number; text: string }
    | { kind: 'text'; text: string }
    | { kind: 'ids'; ids: number[] };
}

/** A vault as the vault list needs it (VaultsRepo.listPage). */
export type VaultListRow = Pick<
  Vault,
  | 'id'
  | 'label'
  | 'state'
  | 'address'
  | 'collateralSats'
  | 'incomingSats'
  | 'debtCents'
  | 'debtArt'
  | 'createdAt'
>;

/** A coin at a vault's address, as the node last reported it. */
export interface VaultCoin {
  txid: string;
  vout: number;
  amountSats: number;
  confirmations: number;
}

/** A network's fee accumulator as stored (`rate` a ray in decimal). */
export interface FeeRateRow {
  rate: string;
  annual_bps: number;
  dripped_at: number;
}

/** What the fee book reads of a vault. */
export interface VaultFeeRow {
  id: number;
  network: NetworkName;
  state: string;
  debt_cents: number;
  debt_art: number;
}

/** The sums behind the system's totals (core/vaults/ceilings.ts), as exact integers. */
export interface DebtSums {
  booked: bigint;
  /** Booked debt and normalized debt of the vaults that accrue (active, warning). */
  accruing_booked: bigint;
  accruing_art: bigint;
  /** Collateral of the vaults with debt. */
  collateral: bigint;
}

export interface VaultsRepo {
  // — vaults and key sets —
  /** The vault with that id, or undefined. */
  byId(vaultId: number): Vault | undefined;
  /** Every vault of a network (of one account, when given), newest first. */
  list(network: NetworkName, accountId?: string): Vault[];
  /**
   * The vaults of a network (of one account, when given) that pass `filter`, with only what the
   * vault list shows and sorts by (without the descriptor and the rest, a third of the read):
   * one page by id when `page` is given, else all of them newest first. `total` counts every
   * match over all pages; `hiddenEmptyPending` the matches `hideEmptyPending` left out.
   */
  listPage(
    network: NetworkName,
    accountId: string | undefined,
    filter: VaultListFilter,
    page?: { offset: number; limit: number; order: 'asc' | 'desc' },
  ): { rows: VaultListRow[]; total: number; hiddenEmptyPending: number };
  /** Per state, the count and collateral of a network's vaults (of one account), and each debt. */
  listTotals(
    network: NetworkName,
    accountId?: string,
  ): {
    byState: { state: string; count: number; collateralSats: number }[];
    debts: { state: string; debtCents: number; debtArt: number }[];
  };
  /** The account a vault belongs to (null: none; undefined: no such vault). */
  accountOf(vaultId: number): string | null | undefined;
  keySet(keySetId: number): KeySetRow | undefined;
  /** The id of the key set with exactly these keys on the network, if stored. */
  keySetIdOf(
    network: NetworkName,
    ownerKey: string,
    protocolKey: string,
    guardianKey: string,
  ): number | undefined;
  /** Stores a key set; returns its id. */
  insertKeySet(
    network: NetworkName,
    ownerKey: string,
    protocolKey: string,
    guardianKey: string,
    ts: number,
  ): number;
  setKeySetNextIndex(keySetId: number, nextIndex: number): void;
  /** Raises a key set's watched range to `end` (never lowers it). */
  raiseKeySetWatchedEnd(keySetId: number, end: number): void;
  /** Every key set of a network, for watching them all again. */
  keySets(network: NetworkName): KeySetRow[];
  /** Stores a new vault as Pending; returns its id. */
  insert(v: NewVault): number;
  /** Opens the vault's account in the bsUSD ledger (`vault:<id>`; a ledger table). */
  openLedgerAccount(vaultId: number): void;
  setReturnAddress(vaultId: number, address: string, ts: number): void;

  // — coins and collateral —
  /** The vault at that address on the network, if any. */
  idByAddress(address: string, network: NetworkName): number | undefined;
  /** The vaults of a network with collateral, incoming coins or stored coins. */
  idsWithCoins(network: NetworkName): number[];
  /** The vaults that hold a coin of `txid` or have a spend with it, by id. */
  vaultsWithTransaction(txid: string): number[];
  /** Whether `txid` is one of the vault spends built here (signed, broadcast or confirmed; a spends table). */
  isOwnSpendTx(txid: string): boolean;
  /** Whether the vault's close or emergency exit is signed or broadcast (a spends table). */
  isClosing(vaultId: number): boolean;
  /** Replaces the vault's stored coins. */
  replaceCoins(vaultId: number, coins: readonly VaultCoin[]): void;
  /** Sets collateral, incoming amount, state and threshold prices. */
  setCollateral(
    vaultId: number,
    c: {
      collateralSats: number;
      incomingSats: number;
      state: string;
      liquidationPriceCents: number | null;
      warningPriceCents: number | null;
    },
    ts: number,
  ): void;

  // — debt —
  /** The vault's collateral and network (for its debt's threshold prices), or undefined. */
  debtBasis(vaultId: number): { collateralSats: Sats; network: NetworkName } | undefined;
  /** The vault's booked debt, or undefined without the vault. */
  debtCents(vaultId: number): number | undefined;
  /** Sets the debt, normalized debt and threshold prices. */
  setDebt(
    vaultId: number,
    debt: number,
    art: number,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): void;
  /** Sets the debt, normalized debt, state and threshold prices (a mint or repay). */
  setDebtAndState(
    vaultId: number,
    debt: number,
    art: number,
    state: string,
    liquidationPriceCents: number | null,
    warningPriceCents: number | null,
    ts: number,
  ): void;
  /** The vaults' debt sums of a network (the system's totals). */
  debtSums(network: NetworkName): DebtSums;

  // — the stability fee book —
  feeRate(network: NetworkName): FeeRateRow | undefined;
  /** Starts a network's accumulator at `rate` with annual rate 0. */
  startFeeRate(network: NetworkName, rate: string, ts: number): void;
  /** Stores the accumulator as dripped up to `drippedAt`. */
  setFeeRate(network: NetworkName, rate: string, drippedAt: number): void;
  setAnnualBps(network: NetworkName, annualBps: number): void;
  feeRow(vaultId: number): VaultFeeRow | undefined;
  /** Books `fee` cents of stability fee on the vault: its debt and its fees grow by it. */
  bookFee(vaultId: number, fee: number): void;
  /**
   * The vaults a fee sweep books: of the network, with debt, active or warning, and no spend
   * holding their coins (a spends table).
   */
  sweepable(network: NetworkName): VaultFeeRow[];
  /** All the stability fee booked on the network's vaults. */
  bookedFees(network: NetworkName): number;

  // — for the API and the vault operations —
  /** The vault's ledger postings, oldest first (ledger tables). */
  debtSteps(vaultId: number): DebtStep[];
  /** The vault's collateral events from the journal, oldest first (the events table). */
  collateralSteps(vaultId: number): { ts: number; data: string }[];
  /** Whether an account is registered on this node (the accounts table). */
  accountRegistered(accountId: string): boolean;
}
