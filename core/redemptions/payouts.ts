/**
 * The redemption payouts a vault owes (migration 010): read by the protocol key's check, the
 * redemption desk, the deposit sync and the auction house. Plain SQL on the caller's connection.
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

/**
 * The payouts the vault owes redeemers, oldest first. Usually one at most (a vault with one owed
 * is not redeemed from again), but a reorg can put a paid one back to owed beside a newer one.
 */
export function owedPayouts(db: Sqlite, vaultId: number): OwedPayout[] {
  return (
    db
      .prepare(
        `SELECT p.id, p.redemption_id, r.btc_address, p.sats FROM redemption_payouts p
           JOIN redemptions r ON r.id = p.redemption_id
          WHERE p.vault_id = ? AND p.state = 'owed' ORDER BY p.id`,
      )
      .all(vaultId) as { id: number; redemption_id: number; btc_address: string; sats: number }[]
  ).map((row) => ({
    id: row.id,
    redemptionId: row.redemption_id,
    address: row.btc_address,
    sats: row.sats as Sats,
  }));
}

/** The oldest payout the vault owes, if any. */
export function owedPayout(db: Sqlite, vaultId: number): OwedPayout | null {
  return owedPayouts(db, vaultId)[0] ?? null;
}

/**
 * Bitcoin the vault owes that no signed transaction carries yet: on chain it is still in the
 * vault's coins, but it is the redeemers', so it is neither the vault's collateral nor an
 * auction's lot. Once the payout's spend is signed, its change (net of the payout) is what the
 * vault counts.
 */
export function owedUnsentSats(db: Sqlite, vaultId: number): Sats {
  return db
    .prepare(
      `SELECT COALESCE(SUM(p.sats), 0) FROM redemption_payouts p
        WHERE p.vault_id = ? AND p.state = 'owed'
          AND NOT EXISTS (SELECT 1 FROM spends s WHERE s.id = p.spend_id
                           AND s.state IN ('signed', 'broadcast', 'confirmed'))`,
    )
    .pluck()
    .get(vaultId) as Sats;
}
