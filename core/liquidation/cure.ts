/**
 * Curing an auction (SPEC §8.2): before the first take, an owner whose vault is back at the
 * warning ratio (160 %) at a fresh price ends its auction without penalty. "Back" may come from a
 * deposit, a repay, or the price itself recovering — the last one is the case the attack review
 * found: an auction that kept selling at ~$48,350 while the oracle was at $60,000 and the vault at
 * 200 %. The price is the lower of the current and the delayed one, as for a mint.
 * Runs on the caller's transaction, so a repay and its cure commit together.
 */
import type { VaultParams } from '../config/networks';
import type { Cents, Sats } from '../money';
import { requireCollateralPrice, type PriceState } from '../oracle/feed';
import { storedPrices } from '../vaults/debt';
import { artFor, drip } from '../vaults/fee-book';
import { collateralRatioBps } from '../vaults/health';
import type { Store } from '../store/ports';

/** The running auction of a vault that no take has touched, if any. */
export async function untouchedAuction(
  store: Store,
  vaultId: number,
): Promise<{ id: number } | null> {
  return (await store.auctions.untouchedOf(vaultId)) ?? null;
}

/** Whether `collateral` against `debt` is at the warning ratio or above at `price`. */
export function curesAt(
  collateral: Sats,
  debt: Cents,
  price: Cents,
  params: Pick<VaultParams, 'warningRatioBps'>,
): boolean {
  const ratio = collateralRatioBps(collateral, debt, price);
  return ratio === null || ratio >= params.warningRatioBps;
}

/**
 * The most debt `collateral` may carry at `price` and still cure (ratio ≥ warning), rounded
 * down so the cure never lands under 160 %.
 */
export function curableDebt(
  collateral: Sats,
  price: Cents,
  params: Pick<VaultParams, 'warningRatioBps'>,
): Cents {
  return Number(
    (BigInt(collateral) * BigInt(price) * 10_000n) /
      (BigInt(params.warningRatioBps) * 100_000_000n),
  ) as Cents;
}

/**
 * Ends the vault's untouched auction as cured and sets the vault Active, if the vault (with
 * `debt`) is at ≥ 160 % at the collateral price now. Returns the auction id it cured, or null.
 * Run inside the transaction that changed the vault.
 */
export async function cureIfHealthy(
  store: Store,
  params: VaultParams,
  price: PriceState,
  vault: { id: number; collateralSats: Sats },
  debt: Cents,
  ts: number,
): Promise<number | null> {
  const auction = await untouchedAuction(store, vault.id);
  if (!auction || price.status !== 'ok') return null;
  const at = requireCollateralPrice(price);
  if (!curesAt(vault.collateralSats, debt, at, params)) return null;
  await store.auctions.markCured(auction.id, ts);
  // The fee resumes from today's rate: nothing accrued while the auction ran (its tab was fixed).
  const network = await store.auctions.vaultNetwork(vault.id);
  const art = artFor(debt, (await drip(store, network, ts)).rate);
  const prices = storedPrices(vault.collateralSats, art, params);
  await store.auctions.restoreCuredVault(vault.id, art, prices.liquidation, prices.warning, ts);
  await store.ops.journal(
    'auction.cured',
    vault.id,
    {
      auctionId: auction.id,
      priceCents: at,
      debtCents: debt,
      collateralSats: vault.collateralSats,
    },
    ts,
  );
  return auction.id;
}
