/**
 * A vault's debt as stored with its threshold prices (the health pass's index keys), and the
 * write-off of debt that no collateral backs. Call inside the transaction of the change.
 */
import type { VaultParams } from '../config/networks';
import { vaultAccount } from '../ledger/bsusd';
import type { Cents, Sats } from '../money';
import type { Store } from '../store/ports';
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
export async function setVaultDebt(
  store: Store,
  vaultId: number,
  debt: Cents,
  params: VaultParams,
  ts: number,
): Promise<void> {
  const v = (await store.vaults.debtBasis(vaultId))!;
  const art = artFor(debt, (await drip(store, v.network, ts)).rate);
  const prices = storedPrices(v.collateralSats, art, params);
  await store.vaults.setDebt(vaultId, debt, art, prices.liquidation, prices.warning, ts);
}

/**
 * Writes off whatever debt the vault still has to the deficit (SPEC §5: no debt may stand on a
 * vault that holds no collateral). Returns the cents written off.
 */
export async function writeOffDebt(
  store: Store,
  vaultId: number,
  params: VaultParams,
  ts: number,
  why: string,
): Promise<Cents> {
  const debt = await store.vaults.debtCents(vaultId);
  if (!debt) return 0 as Cents;
  await store.ledger.post(
    'bad_debt',
    vaultId,
    [
      [vaultAccount(vaultId), debt],
      ['deficit', -debt],
    ],
    why,
    ts,
  );
  await setVaultDebt(store, vaultId, 0 as Cents, params, ts);
  await store.ops.journal('vault.written-off', vaultId, { debtCents: debt, why }, ts);
  return debt as Cents;
}
