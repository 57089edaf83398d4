/**
 * The stability fee (SPEC §8.5, issue "The peg and the price" item 1): Maker's `rate` and
 * `drip`, in integers.
 *
 * - One accumulator per network, `rate`, a ray (10^27 = 1.0). It starts at 1.0 and grows by a
 *   per-second factor `duty`, chosen so that `duty^(seconds in a year)` is the annual rate.
 *   `drip(now)` brings it up to date: rate ← rate · duty^(whole seconds since the last drip).
 * - Each vault keeps its debt normalized, `art` (millionths of a cent at rate 1.0): a mint adds
 *   amount/rate, a repay takes it away. Its debt at any time is ⌈art · rate⌉ cents.
 * - The ledger holds what is *booked*: when a vault is touched (mint, repay, withdraw review,
 *   liquidation, cure) and by a periodic sweep, the fee accrued since its last booking,
 *   ⌈art · rate⌉ − debt, is one `stability_fee` entry from the vault's debt to surplus. Booked
 *   debt is never below what was booked before (an accrual is never negative).
 *
 * Rounding: the accumulator rounds down at 10^-27 per step (it stays at or under the true
 * compound rate; after a year at 2 % it is below 1.02 by less than 10^-18), and every cent rounds
 * up (⌈·⌉), so the system never loses a cent to rounding and a year at 2 % on 2,500.00 bsUSD is
 * exactly 50.00 bsUSD.
 *
 * Written by hand: no maintained JavaScript library does fixed-point compounding in BigInt, and
 * the arithmetic is a few lines (exponentiation by squaring), checked against vectors computed
 * with Python's `decimal` at 60 digits in test/fixtures/fees/.
 */
import type { Cents } from '../money';

export const RAY = 10n ** 27n;
/** Normalized debt units per cent at rate 1.0. */
export const ART_PER_CENT = 1_000_000n;
export const SECONDS_PER_YEAR = 31_536_000;

const rmul = (a: bigint, b: bigint) => (a * b) / RAY;

/** x^n for a ray x, rounding down at each step (exponentiation by squaring). */
export function rpow(x: bigint, n: number): bigint {
  let result = RAY;
  let base = x;
  let e = BigInt(n);
  while (e > 0n) {
    if (e & 1n) result = rmul(result, base);
    e >>= 1n;
    if (e > 0n) base = rmul(base, base);
  }
  return result;
}

const duties = new Map<number, bigint>();

/**
 * The per-second factor of an annual rate in basis points: the largest ray `d` with
 * `rpow(d, year) ≤ 1 + bps/10,000`, by bisection (about 90 steps, cached per rate).
 */
export function dutyOf(annualBps: number): bigint {
  const cached = duties.get(annualBps);
  if (cached !== undefined) return cached;
  const target = (RAY * BigInt(10_000 + annualBps)) / 10_000n;
  let lo = RAY;
  let hi = target;
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (rpow(mid, SECONDS_PER_YEAR) <= target) lo = mid;
    else hi = mid;
  }
  duties.set(annualBps, lo);
  return lo;
}

/** The accumulator after `seconds` more at `annualBps`. */
export function grow(rate: bigint, annualBps: number, seconds: number): bigint {
  if (seconds <= 0 || annualBps === 0) return rate;
  return rmul(rate, rpow(dutyOf(annualBps), seconds));
}

/** A vault's debt in cents from its normalized debt and the accumulator: ⌈art · rate⌉. */
export function debtOf(art: bigint, rate: bigint): Cents {
  if (art === 0n) return 0 as Cents;
  const den = RAY * ART_PER_CENT;
  return Number((art * rate + den - 1n) / den) as Cents;
}

/**
 * The normalized debt a change of `cents` makes at `rate`: a mint rounds up (the vault owes at
 * least what it received), a repay rounds down (it is credited at most what it paid).
 */
export function artOf(cents: number, rate: bigint, direction: 'mint' | 'repay'): bigint {
  const num = BigInt(cents) * ART_PER_CENT * RAY;
  return direction === 'mint' ? (num + rate - 1n) / rate : num / rate;
}

/** The fee a year at `annualBps` adds to `debt` cents (what the UI calls "per year"), rounded up. */
export function feePerYear(debt: Cents, annualBps: number): Cents {
  return Number((BigInt(debt) * BigInt(annualBps) + 9_999n) / 10_000n) as Cents;
}
