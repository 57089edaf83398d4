/**
 * Curing an auction (SPEC §8.2): before the first take, an owner whose vault is back at the
 * warning ratio (160 %) at a fresh price ends its auction without penalty. "Back" may come from a
 * deposit, a repay, or the price itself recovering — the last one is the case the attack review
 * found: an auction that kept selling at ~$48,350 while the oracle was at $60,000 and the vault at
 * 200 %. The price is the lower of the current and the delayed one, as for a mint.
 * Plain SQL on the caller's transaction, so a repay and its cure commit together.
 */
import type { NetworkName, VaultParams } from '../config/networks';
import type { Sqlite } from '../db/database';
import { journal } from '../events/journal';
import type { Cents, Sats } from '../money';
import { requireCollateralPrice, type PriceState } from '../oracle/feed';
import { storedPrices } from '../vaults/debt';
import { artFor, drip } from '../vaults/fee-book';
import { collateralRatioBps } from '../vaults/health';

/** The running auction of a vault that no take has touched, if any. */
export function untouchedAuction(db: Sqlite, vaultId: number): { id: number } | null {
  return (
    (db
      .prepare(
        "SELECT id FROM liquidations WHERE vault_id = ? AND state = 'running' AND covered_cents = 0 AND sold_sats = 0",
      )
      .get(vaultId) as { id: number } | undefined) ?? null
  );
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
export function cureIfHealthy(
  db: Sqlite,
  params: VaultParams,
  price: PriceState,
  vault: { id: number; collateralSats: Sats },
  debt: Cents,
  ts: number,
): number | null {
  const auction = untouchedAuction(db, vault.id);
  if (!auction || price.status !== 'ok') return null;
  const at = requireCollateralPrice(price);
  if (!curesAt(vault.collateralSats, debt, at, params)) return null;
  db.prepare(
    "UPDATE liquidations SET state = 'settled', ended_at = ?, cured_at = ? WHERE id = ? AND state = 'running' AND covered_cents = 0",
  ).run(ts, ts, auction.id);
  // The fee resumes from today's rate: nothing accrued while the auction ran (its tab was fixed).
  const network = db
    .prepare('SELECT network FROM vaults WHERE id = ?')
    .pluck()
    .get(vault.id) as NetworkName;
  const art = artFor(debt, drip(db, network, ts).rate);
  const prices = storedPrices(vault.collateralSats, art, params);
  db.prepare(
    "UPDATE vaults SET state = 'active', debt_art = ?, liquidation_price_cents = ?, warning_price_cents = ?, updated_at = ? WHERE id = ?",
  ).run(art, prices.liquidation, prices.warning, ts, vault.id);
  journal(
    db,
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
