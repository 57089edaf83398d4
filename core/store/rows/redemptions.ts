/** The redemption tables' rows as both adapters read them (sqlite/ and pg/redemptions.ts). */
import type { Sats } from '../../money';
import type { OwedPayout } from '../redemptions';

/** A row of a vault's owed payouts: the payout with its redeemer's address. */
export interface OwedPayoutRow {
  id: number;
  redemption_id: number;
  btc_address: string;
  sats: number;
}

/** Maps an owed payout row to an OwedPayout. */
export const owedPayoutFromRow = (row: OwedPayoutRow): OwedPayout => ({
  id: row.id,
  redemptionId: row.redemption_id,
  address: row.btc_address,
  sats: row.sats as Sats,
});
