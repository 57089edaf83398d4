/**
 * The stability pool's take at an auction's floor, split pro rata (SPEC §8.5). Pure, and
 * vector-tested (test/fixtures/pool/split.json).
 *
 * The pool buys what its bsUSD reaches, no more than the tab needs or the lot holds: T sats.
 * Each depositor, in a fixed order, gets ⌊T · deposit / total⌋ sats, bought with their own
 * deposit at the floor price (the cost rounds up, as every take's does, and never passes their
 * deposit: their share shrinks by a sat until it does not). A share under its address's dust
 * limit is left out (the lot keeps it). The floors leave at most a sat per depositor unsold.
 */
import type { Cents, Sats } from '../money';
import { quoteTake } from '../liquidation/dutch';

const SATS_PER_BTC = 100_000_000n;

export interface PoolShareInput {
  id: string;
  balanceCents: number;
  dustSats: number;
}

export interface PoolShare {
  id: string;
  sats: Sats;
  costCents: Cents;
}

export function planPoolTake(
  depositors: PoolShareInput[],
  price: Cents,
  tabLeft: Cents,
  lotLeft: Sats,
): PoolShare[] {
  const total = depositors.reduce((s, d) => s + d.balanceCents, 0);
  if (total <= 0 || price <= 0) return [];
  const affordable = Number((BigInt(total) * SATS_PER_BTC) / BigInt(price)) as Sats;
  const all = quoteTake(price, tabLeft, lotLeft, affordable).sats;
  if (all === 0) return [];
  const out: PoolShare[] = [];
  let tab = tabLeft as number;
  let lot = lotLeft as number;
  for (const d of depositors) {
    if (tab <= 0 || lot <= 0) break;
    let share = Number((BigInt(all) * BigInt(d.balanceCents)) / BigInt(total));
    let quote = quoteTake(price, tab as Cents, lot as Sats, share as Sats);
    while (quote.costCents > d.balanceCents && share > 0) {
      share--;
      quote = quoteTake(price, tab as Cents, lot as Sats, share as Sats);
    }
    if (quote.sats === 0 || quote.sats < d.dustSats) continue;
    out.push({ id: d.id, sats: quote.sats, costCents: quote.costCents });
    tab -= quote.costCents;
    lot -= quote.sats;
  }
  return out;
}
