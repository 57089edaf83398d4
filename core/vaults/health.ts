/**
 * Collateral ratio and liquidation price, in exact integer arithmetic (SPEC §5).
 *
 *   ratio            = collateral_btc × price / debt
 *   liquidation price = debt × 1.50 / collateral_btc
 *
 * collateral × price can reach 2.1e15 sats × 1e9 cents, far past 2^53, so products are BigInt.
 */
import type { Bps, Cents, Sats } from '../money';
import { ART_PER_CENT } from './fee';

const SATS_PER_BTC = 100_000_000n;
const BPS = 10_000n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Collateral ratio in basis points, rounded down (the conservative side), or `null` when the
 * vault has no debt (no ratio limit applies).
 */
export function collateralRatioBps(collateral: Sats, debt: Cents, price: Cents): Bps | null {
  if (debt === 0) return null;
  const num = BigInt(collateral) * BigInt(price) * BPS;
  const den = BigInt(debt) * SATS_PER_BTC;
  const ratio = num / den;
  // Absurdly safe vaults (all of a large balance against a cent) exceed 2^53 bps; cap them.
  return (ratio > MAX_SAFE ? Number.MAX_SAFE_INTEGER : Number(ratio)) as Bps;
}

/**
 * The lowest integer price (cents per BTC) at which the vault still holds `thresholdBps`:
 * for every integer price p, `ratio(p) < threshold` exactly when `p < thresholdPrice`.
 * `null` when there is no debt (never crosses); a vault with debt and no collateral gets
 * MAX_SAFE_INTEGER (it is below the threshold at any price).
 */
export function thresholdPrice(collateral: Sats, debt: Cents, thresholdBps: Bps): Cents | null {
  if (debt === 0) return null;
  if (collateral === 0) return Number.MAX_SAFE_INTEGER as Cents;
  // ratio < t  ⇔  collateral·p·BPS < t·debt·SATS  ⇔  p < t·debt·SATS / (collateral·BPS) = L.
  // For integer p, p < L ⇔ p < ceil(L).
  const num = BigInt(thresholdBps) * BigInt(debt) * SATS_PER_BTC;
  const den = BigInt(collateral) * BPS;
  const ceil = (num + den - 1n) / den;
  return (ceil > MAX_SAFE ? Number.MAX_SAFE_INTEGER : Number(ceil)) as Cents;
}

/**
 * The health pass's index key of a normalized debt (`art`, millionths of a cent at rate 1.0):
 * the threshold price of `art` plus one cent, at rate 1.0. A vault's debt now is at most one
 * cent above art × rate (it is rounded up, and a booking may round up once more), and a cent at
 * rate 1.0 is at least a cent at any rate ≥ 1.0: so at rate r a vault whose debt now is under
 * `thresholdBps` at price P always has a key above ⌊P / r⌋, which is what the pass asks for.
 * The cost is a vault liquidated up to a cent of debt early — a rounding in the system's favour.
 */
export function normalizedThresholdPrice(
  collateral: Sats,
  art: number,
  thresholdBps: Bps,
): Cents | null {
  if (art === 0) return null;
  if (collateral === 0) return Number.MAX_SAFE_INTEGER as Cents;
  const num = BigInt(thresholdBps) * (BigInt(art) + ART_PER_CENT) * SATS_PER_BTC;
  const den = BigInt(collateral) * BPS * ART_PER_CENT;
  const ceil = (num + den - 1n) / den;
  return (ceil > MAX_SAFE ? Number.MAX_SAFE_INTEGER : Number(ceil)) as Cents;
}

/** SPEC §5: liquidation price = debt × 1.50 / collateral (the price under which ratio < 150 %). */
export function liquidationPrice(
  collateral: Sats,
  debt: Cents,
  liquidationRatioBps: Bps,
): Cents | null {
  return thresholdPrice(collateral, debt, liquidationRatioBps);
}

/**
 * The most debt (cents) the collateral supports at `price` while keeping `minRatioBps`;
 * rounded down.
 */
export function maxDebtFor(collateral: Sats, price: Cents, minRatioBps: Bps): Cents {
  const num = BigInt(collateral) * BigInt(price) * BPS;
  const den = BigInt(minRatioBps) * SATS_PER_BTC;
  return Number(num / den) as Cents;
}
