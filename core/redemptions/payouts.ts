/**
 * The redemption payouts a vault owes (migration 010): read by the protocol key's check and the
 * redemption desk. Plain SQL on the caller's connection.
 */
import type { Sqlite } from '../db/database';
import type { Sats } from '../money';

export interface OwedPayout {
  id: number;
  redemptionId: number;
  /** The redeemer's address. */
  address: string;
  sats: Sats;
}

/** The payout the vault owes a redeemer, if any (at most one: a unique index). */
export function owedPayout(db: Sqlite, vaultId: number): OwedPayout | null {
  const row = db
    .prepare(
      `SELECT p.id, p.redemption_id, r.btc_address, p.sats FROM redemption_payouts p
         JOIN redemptions r ON r.id = p.redemption_id
        WHERE p.vault_id = ? AND p.state = 'owed'`,
    )
    .get(vaultId) as
    { id: number; redemption_id: number; btc_address: string; sats: number } | undefined;
  return row
    ? {
        id: row.id,
        redemptionId: row.redemption_id,
        address: row.btc_address,
        sats: row.sats as Sats,
      }
    : null;
}
