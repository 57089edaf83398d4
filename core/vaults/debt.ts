/**
 * A vault's debt as stored with its threshold prices (the health pass's index keys), and the
 * write-off of debt that no collateral backs. Call inside the transaction of the change.
 */
import type { VaultParams } from '../config/networks';
import type { Sqlite } from '../db/database';
import { journal } from '../events/journal';
import { post, vaultAccount } from '../ledger/bsusd';
import type { Cents, Sats } from '../money';
import { thresholdPrice } from './health';

/** Derives the threshold prices stored with a vault, so health passes are index range queries. */
export function storedPrices(collateral: Sats, debt: Cents, params: VaultParams) {
  return {
    liquidation: thresholdPrice(collateral, debt, params.liquidationRatioBps),
    warning: thresholdPrice(collateral, debt, params.warningRatioBps),
  };
}

/** Sets a vault's debt and its threshold prices (the ledger entry is the caller's). */
export function setVaultDebt(
  db: Sqlite,
  vaultId: number,
  debt: Cents,
  params: VaultParams,
  ts: number,
): void {
  const collateral = db
    .prepare('SELECT collateral_sats FROM vaults WHERE id = ?')
    .pluck()
    .get(vaultId) as Sats;
  const prices = storedPrices(collateral, debt, params);
  db.prepare(
    'UPDATE vaults SET debt_cents = ?, liquidation_price_cents = ?, warning_price_cents = ?, updated_at = ? WHERE id = ?',
  ).run(debt, prices.liquidation, prices.warning, ts, vaultId);
}

/**
 * Writes off whatever debt the vault still has to the deficit (SPEC §5: no debt may stand on a
 * vault that holds no collateral). Returns the cents written off.
 */
export function writeOffDebt(
  db: Sqlite,
  vaultId: number,
  params: VaultParams,
  ts: number,
  why: string,
): Cents {
  const debt = db.prepare('SELECT debt_cents FROM vaults WHERE id = ?').pluck().get(vaultId) as
    number | undefined;
  if (!debt) return 0 as Cents;
  post(
    db,
    'bad_debt',
    vaultId,
    [
      [vaultAccount(vaultId), debt],
      ['deficit', -debt],
    ],
    why,
    ts,
  );
  setVaultDebt(db, vaultId, 0 as Cents, params, ts);
  journal(db, 'vault.written-off', vaultId, { debtCents: debt, why }, ts);
  return debt as Cents;
}
