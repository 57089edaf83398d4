/** The vaults tables' rows as both adapters read them (sqlite/vaults.ts, pg/vaults.ts). */
import type { NetworkName } from '../../config/networks';
import type { Cents, Sats } from '../../money';
import type { VaultState } from '../../vaults/state';
import type { KeySetRow, Vault, VaultListRow } from '../vaults';

/** A `vaults` row. */
export interface VaultRow {
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

/** A `key_sets` row. */
export interface KeySetDbRow {
  id: number;
  network: string;
  owner_key: string;
  protocol_key: string;
  guardian_key: string;
  next_index: number;
  watched_end: number;
  created_at: number;
}

/** Maps a `key_sets` row to a KeySetRow. */
export const keySetRow = (r: KeySetDbRow): KeySetRow => ({
  id: r.id,
  network: r.network as NetworkName,
  ownerKey: r.owner_key,
  protocolKey: r.protocol_key,
  guardianKey: r.guardian_key,
  nextIndex: r.next_index,
  watchedEnd: r.watched_end,
  createdAt: r.created_at,
});

/** Maps a `vaults` row to a Vault. */
export const vaultFromRow = (r: VaultRow): Vault => ({
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
});

/** The columns of VaultsRepo.listPage, in both dialects. */
export const VAULT_LIST_COLUMNS =
  'id, label, state, address, collateral_sats, incoming_sats, debt_cents, debt_art, created_at';

export type VaultListDbRow = Pick<
  VaultRow,
  | 'id'
  | 'label'
  | 'state'
  | 'address'
  | 'collateral_sats'
  | 'incoming_sats'
  | 'debt_cents'
  | 'debt_art'
  | 'created_at'
>;

export const vaultListRow = (r: VaultListDbRow): VaultListRow => ({
  id: Number(r.id),
  label: r.label,
  state: r.state as VaultState,
  address: r.address,
  collateralSats: Number(r.collateral_sats) as Sats,
  incomingSats: Number(r.incoming_sats) as Sats,
  debtCents: Number(r.debt_cents) as Cents,
  debtArt: Number(r.debt_art),
  createdAt: Number(r.created_at),
});
