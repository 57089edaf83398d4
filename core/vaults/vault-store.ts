/**
 * Reading vaults and key sets from SQLite, and the row ↔ object mapping. Writes live in the
 * services that own each state change.
 */
import type { Sqlite } from '../db/database';
import { BitStableError } from '../errors';
import type { Cents, Sats } from '../money';
import type { NetworkName } from '../config/networks';
import type { VaultState } from './state';

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
}

interface VaultRow {
  id: number;
  key_set_id: number;
  idx: number;
  network: string;
  address: string;
  descriptor: string;
  state: string;
  collateral_sats: number;
  incoming_sats: number;
  debt_cents: number;
  debt_art: number;
  fees_cents: number;
  liquidation_price_cents: number | null;
  warning_price_cents: number | null;
  planned_deposit_sats: number | null;
  return_address: string | null;
  label: string | null;
  account_id: string | null;
  created_at: number;
  updated_at: number;
}

/** Maps a `vaults` row to a Vault. */
export function vaultFromRow(r: VaultRow): Vault {
  return {
    id: r.id,
    keySetId: r.key_set_id,
    index: r.idx,
    network: r.network as NetworkName,
    address: r.address,
    descriptor: r.descriptor,
    state: r.state as VaultState,
    collateralSats: r.collateral_sats as Sats,
    incomingSats: r.incoming_sats as Sats,
    debtCents: r.debt_cents as Cents,
    debtArt: r.debt_art,
    feesCents: r.fees_cents as Cents,
    liquidationPriceCents: r.liquidation_price_cents as Cents | null,
    warningPriceCents: r.warning_price_cents as Cents | null,
    plannedDepositSats: r.planned_deposit_sats as Sats | null,
    returnAddress: r.return_address,
    label: r.label,
    accountId: r.account_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Checks that `id` can be a row id at all (a positive whole number). */
export function checkId(id: unknown, what: string): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    throw new BitStableError(
      'INVALID_ARGUMENT',
      `${what} must be a positive whole number; got ${String(id)}.`,
      {
        value: String(id),
      },
    );
  }
  return id;
}

/** Loads one vault or throws VAULT_NOT_FOUND. */
export function getVault(db: Sqlite, id: unknown): Vault {
  const vaultId = checkId(id, 'A vault id');
  const row = db.prepare('SELECT * FROM vaults WHERE id = ?').get(vaultId) as VaultRow | undefined;
  if (!row)
    throw new BitStableError('VAULT_NOT_FOUND', `There is no vault #${vaultId}.`, { vaultId });
  return vaultFromRow(row);
}

/** Every vault of a network (of one account, when given), newest first. */
export function listVaults(db: Sqlite, network: NetworkName, accountId?: string): Vault[] {
  const rows =
    accountId === undefined
      ? db.prepare('SELECT * FROM vaults WHERE network = ? ORDER BY id DESC').all(network)
      : db
          .prepare('SELECT * FROM vaults WHERE network = ? AND account_id = ? ORDER BY id DESC')
          .all(network, accountId);
  return (rows as VaultRow[]).map(vaultFromRow);
}

/** Loads one key set or throws KEY_SET_NOT_FOUND. */
export function getKeySet(db: Sqlite, id: unknown): KeySetRow {
  const keySetId = checkId(id, 'A key set id');
  const r = db.prepare('SELECT * FROM key_sets WHERE id = ?').get(keySetId) as
    | {
        id: number;
        network: string;
        owner_key: string;
        protocol_key: string;
        guardian_key: string;
        next_index: number;
      }
    | undefined;
  if (!r)
    throw new BitStableError('KEY_SET_NOT_FOUND', `There is no key set #${keySetId}.`, {
      keySetId,
    });
  return {
    id: r.id,
    network: r.network as NetworkName,
    ownerKey: r.owner_key,
    protocolKey: r.protocol_key,
    guardianKey: r.guardian_key,
    nextIndex: r.next_index,
  };
}
