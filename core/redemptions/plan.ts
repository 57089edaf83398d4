/**
 * Redemptions, the arithmetic (SPEC §8.5): bsUSD in, bitcoin out at the oracle price, taken from
 * the lowest-ratio vaults first. Pure, and vector-tested (test/fixtures/redemptions/).
 *
 * - The fee is 0.5 % of what is redeemed, rounded up, paid on top: giving A bsUSD redeems the
 *   largest R with R + ⌈R · fee⌉ ≤ A. Vault debts fall by exactly R; the fee goes to surplus.
 * - Each vault, lowest ratio first, gives min(what is left, its debt) — but never leaves a debt
 *   under the floor: it then gives its debt less the floor, or is passed over. A vault under the
 *   liquidation ratio at the price is passed over (the health pass is about to liquidate it).
 * - A vault pays ⌊debt taken / price⌋ in sats (rounded towards the vault); a slice worth less
 *   than `minSats` is passed over. At most `maxVaults` vaults are touched.
 */
import type { Bps, Cents, Sats } from '../money';

const SATS_PER_BTC = 100_000_000n;

export interface RedemptionCandidate {
  vaultId: number;
  collateralSats: Sats;
  debtCents: Cents;
}

export interface RedemptionSlice {
  vaultId: number;
  /** The debt this redemption takes off the vault. */
  debtCents: Cents;
  /** What the vault pays the redeemer for it (before the on-chain fee). */
  sats: Sats;
}

export interface RedemptionRules {
  feeBps: Bps;
  debtFloorCents: Cents;
  liquidationRatioBps: Bps;
  /** The smallest payout worth a transaction (dust and its fee). */
  minSats: Sats;
  maxVaults: number;
}

export interface RedemptionPlan {
  slices: RedemptionSlice[];
  redeemedCents: Cents;
  feeCents: Cents;
  /** What the redeemer pays: redeemed + fee (≤ what was offered). */
  paidCents: Cents;
  sats: Sats;
}

/** ⌈R · fee⌉. */
export function redemptionFee(redeemed: number, feeBps: number): Cents {
  return Math.ceil((redeemed * feeBps) / 10_000) as Cents;
}

/** The most that `offered` bsUSD redeems once the fee is paid on top. */
export function netOf(offered: number, feeBps: number): Cents {
  let r = Math.floor((offered * 10_000) / (10_000 + feeBps));
  while (r > 0 && r + redemptionFee(r, feeBps) > offered) r--;
  while (r + 1 + redemptionFee(r + 1, feeBps) <= offered) r++;
  return r as Cents;
}

/** sats for `cents` at `price`, rounded down. */
export function satsFor(cents: number, price: Cents): Sats {
  return Number((BigInt(cents) * SATS_PER_BTC) / BigInt(price)) as Sats;
}

/**
 * Plans a redemption of `offeredCents` at `price` over `candidates`, which must come lowest
 * ratio first. Partial when the candidates cannot take it all: what is paid is what was redeemed
 * plus its fee.
 */
export async function planRedemption(
  candidates: Iterable<RedemptionCandidate> | AsyncIterable<RedemptionCandidate>,
  offeredCents: number,
  price: Cents,
  rules: RedemptionRules,
): Promise<RedemptionPlan> {
  let left = netOf(offeredCents, rules.feeBps);
  const slices: RedemptionSlice[] = [];
  for await (const c of candidates) {
    if (left <= 0 || slices.length >= rules.maxVaults) break;
    if (c.debtCents <= 0) continue;
    const ratio =
      (BigInt(c.collateralSats) * BigInt(price) * 10_000n) / (BigInt(c.debtCents) * SATS_PER_BTC);
    if (ratio < BigInt(rules.liquidationRatioBps)) continue;
    let take = Math.min(left, c.debtCents);
    if (take < c.debtCents && c.debtCents - take < rules.debtFloorCents) {
      take = c.debtCents - rules.debtFloorCents;
    }
    if (take <= 0) continue;
    const sats = satsFor(take, price);
    if (sats < rules.minSats) continue;
    slices.push({ vaultId: c.vaultId, debtCents: take as Cents, sats });
    left = (left - take) as Cents;
  }
  const redeemed = slices.reduce((s, x) => s + x.debtCents, 0);
  const fee: number = redeemed === 0 ? 0 : redemptionFee(redeemed, rules.feeBps);
  return {
    slices,
    redeemedCents: redeemed as Cents,
    feeCents: fee as Cents,
    paidCents: (redeemed + fee) as Cents,
    sats: slices.reduce((s, x) => s + x.sats, 0) as Sats,
  };
}
