/**
 * A vault's debt as stored with its threshold prices (the health pass's index keys), and the
 * write-off of debt that no collateral backs. Call inside the transaction of the change.
 */
import type { NetworkName, VaultParams } from '../config/networks';
import type { Sqlite } from '../db/database';
import { journal } from '../events/journal';
import { post, vaultAccount } from '../ledger/bsusd';
import type { Cents, Sats } from '../money';
import { artFor, drip } from './fee-book';
import { normalizedThresholdPrice } from './health';

/**
 * Derives the threshold prices stored with a vault from its normalized debt (`art`, see
 * core/vaults/fee.ts), so health passes are index range queries: the vault crosses at price P
 * when its stored price is above ⌊P / rate⌋, whatever the accumulator has grown to since.
 */
export function storedPrices(collateral: Sats, art: number, params: VaultParams) {
  return {
    liquidation: normalizedThresholdPrice(collateral, art, params.liquidationRatioBps),
    warning: normalizedThresholdPrice(collateral, art, params.warningRatioBps),
  };
}

/**
 * Sets a vault's debt outright (a take, a write-off, a cure) with its normalized debt at today's
 * rate and its threshold prices (the ledger entry is the caller's).
 */
export function setVaultDebt(
  db: Sqlite,
  vaultId: number,
  debt: Cents,
  params: VaultParams,
  ts: number,
): void {
  const v = db.prepare('SELECT collateral_sats, network FROM vaults WHERE id = ?').get(vaultId) as {
    collateral_sats: Sats;
    network: NetworkName;
  };
  const art = artFor(debt, drip(db, v.network, ts).rate);
  const prices = storedPrices(v.collateral_sats, art, params);
  db.prepare(
    'UPDATE vaults SET debt_cents = ?, debt_art = ?, liquidation_price_cents = ?, warning_price_cents = ?, updated_at = ? WHERE id = ?',
  ).run(debt, art, prices.liquidation, prices.warning, ts, vaultId);
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
