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
  const out = new Map<string, PoolShare>();
  let tab = tabLeft as number;
  let lot = lotLeft as number;
  const spent = (id: string) => out.get(id)?.costCents ?? 0;
  /** Adds up to `maxSats` to the depositor's share, within what their deposit still buys. */
  const give = (d: PoolShareInput, maxSats: number) => {
    const budget = d.balanceCents - spent(d.id);
    let want = Math.min(maxSats, Number((BigInt(budget) * SATS_PER_BTC) / BigInt(price)));
    let quote = quoteTake(price, tab as Cents, lot as Sats, want as Sats);
    while (quote.costCents > budget && want > 0) {
      want--;
      quote = quoteTake(price, tab as Cents, lot as Sats, want as Sats);
    }
    const before = out.get(d.id);
    const total = (before?.sats ?? 0) + quote.sats;
    if (quote.sats === 0 || total < d.dustSats) return;
    out.set(d.id, {
      id: d.id,
      sats: total as Sats,
      costCents: ((before?.costCents ?? 0) + quote.costCents) as Cents,
    });
    tab -= quote.costCents;
    lot -= quote.sats;
  };
  // Pro rata first.
  for (const d of depositors) {
    if (tab <= 0 || lot <= 0) break;
    give(d, Number((BigInt(all) * BigInt(d.balanceCents)) / BigInt(total)));
  }
  // What rounding and dust left of the pool's take goes to whoever has deposit left, the
  // largest first (added to a share they have, so no new dust output): the pool takes all it can.
  const byLeft = [...depositors].sort(
    (a, b) =>
      b.balanceCents - spent(b.id) - (a.balanceCents - spent(a.id)) || (a.id < b.id ? -1 : 1),
  );
  for (const d of byLeft) {
    if (tab <= 0 || lot <= 0) break;
    give(d, lot);
  }
  return depositors.flatMap((d) => (out.has(d.id) ? [out.get(d.id)!] : []));
}
