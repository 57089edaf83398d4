/**
 * Dutch auction arithmetic (SPEC §8, after Maker's Liquidations 2.0), pure and in integers.
 */
import type { Bps, Cents, Sats } from '../money';

const SATS_PER_BTC = 100_000_000n;
const BPS = 10_000n;

/** tab = debt × (1 + penalty). Rounded up: the penalty is never short by a cent. */
export function auctionTab(debt: Cents, penaltyBps: Bps): Cents {
  const num = BigInt(debt) * (BPS + BigInt(penaltyBps));
  return Number((num + BPS - 1n) / BPS) as Cents;
}

/** `price × bps / 10,000`, rounded down. */
export function scalePrice(price: Cents, bps: Bps): Cents {
  return Number((BigInt(price) * BigInt(bps)) / BPS) as Cents;
}

/** The auction price `elapsedMs` into a cycle: linear from top to floor over `durationMs`. */
export function priceAt(top: Cents, floor: Cents, elapsedMs: number, durationMs: number): Cents {
  if (elapsedMs <= 0) return top;
  if (elapsedMs >= durationMs) return floor;
  const drop = (BigInt(top - floor) * BigInt(Math.floor(elapsedMs))) / BigInt(durationMs);
  return (top - Number(drop)) as Cents;
}

export interface TakeQuote {
  /** Satoshis the taker receives. */
  sats: Sats;
  /** bsUSD cents the taker pays. */
  costCents: Cents;
}

/**
 * What a take buys at `price`: at most `maxSats`, at most what is left of the lot, and never more
 * than the rest of the tab needs. Buying the whole need pays exactly the rest of the tab;
 * a smaller slice pays its value rounded up (the protocol never loses a cent to rounding).
 */
export function quoteTake(price: Cents, tabLeft: Cents, lotLeft: Sats, maxSats: Sats): TakeQuote {
  if (price <= 0 || tabLeft <= 0 || lotLeft <= 0 || maxSats <= 0)
    return { sats: 0 as Sats, costCents: 0 as Cents };
  const p = BigInt(price);
  const needed = Number((BigInt(tabLeft) * SATS_PER_BTC + p - 1n) / p);
  const sats = Math.min(maxSats, lotLeft, needed);
  if (sats === needed) return { sats: sats as Sats, costCents: tabLeft };
  const cost = Number((BigInt(sats) * p + SATS_PER_BTC - 1n) / SATS_PER_BTC);
  return { sats: sats as Sats, costCents: Math.min(cost, tabLeft) as Cents };
}
