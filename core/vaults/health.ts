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
 * The threshold price of a normalized debt (`art`, millionths of a cent at rate 1.0): the
 * lowest integer price at which `art` at rate 1.0 still holds `thresholdBps`. At rate 1.0 it is
 * `thresholdPrice` of the debt; at rate r the vault crosses price P exactly when this is above
 * P / r (core/liquidation/health-pass.ts asks for ⌊P / r⌋).
 */
export function normalizedThresholdPrice(
  collateral: Sats,
  art: number,
  thresholdBps: Bps,
): Cents | null {
  if (art === 0) return null;
  if (collateral === 0) return Number.MAX_SAFE_INTEGER as Cents;
  const num = BigInt(thresholdBps) * BigInt(art) * SATS_PER_BTC;
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
