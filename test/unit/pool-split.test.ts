/**
 * The stability pool's pro-rata take (core/pool/split.ts) against vectors from a separate Python
 * model (test/fixtures/pool/split.json: each case says why), and its invariants over many
 * random pools: shares add up to no more than the pool could buy, nobody pays past their
 * deposit, and each pays what the floor price asks for their sats, rounded up.
 */
import { describe, expect, it } from 'vitest';
import vectors from '../fixtures/pool/split.json';
import { planPoolTake } from '../../core/pool/split';
import type { Cents, Sats } from '../../core/money';

describe("the stability pool's pro-rata split, against vectors", () => {
  for (const v of vectors.vectors) {
    it(v.name, () => {
      const shares = planPoolTake(
        v.depositors.map(([id, balanceCents, dustSats]) => ({
          id: id as string,
          balanceCents: balanceCents as number,
          dustSats: dustSats as number,
        })),
        v.price as Cents,
        v.tabLeft as Cents,
        v.lotLeft as Sats,
      );
      expect(shares.map((s) => [s.id, s.sats, s.costCents])).toEqual(v.shares);
    });
  }

  it('over random pools: no one pays past their deposit or less than their sats cost, and the shares never pass the lot, the tab or the pool', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    for (let run = 0; run < 2_000; run++) {
      const depositors = Array.from({ length: 1 + rand(6) }, (_, i) => ({
        id: `d${i}`,
        balanceCents: 1 + rand(2_000_000),
        dustSats: 330,
      }));
      const price = (1_000_000 + rand(9_000_000)) as Cents;
      const tab = (1 + rand(5_000_000)) as Cents;
      const lot = (1 + rand(50_000_000)) as Sats;
      const shares = planPoolTake(depositors, price, tab, lot);
      const sats = shares.reduce((s, x) => s + x.sats, 0);
      const cost = shares.reduce((s, x) => s + x.costCents, 0);
      expect(sats).toBeLessThanOrEqual(lot);
      expect(cost).toBeLessThanOrEqual(tab);
      expect(cost).toBeLessThanOrEqual(depositors.reduce((s, d) => s + d.balanceCents, 0));
      for (const s of shares) {
        const d = depositors.find((x) => x.id === s.id)!;
        expect(s.costCents).toBeLessThanOrEqual(d.balanceCents);
        expect(s.sats).toBeGreaterThanOrEqual(d.dustSats);
        // The cost rounds up (the system's side; a share bought in two steps may round twice:
        // a cent more at most), except where a share covers the rest of the tab.
        const fair = Math.ceil((s.sats * price) / 100_000_000);
        const coversTab = cost === tab;
        expect(s.costCents <= fair + 1).toBe(true);
        if (!coversTab) expect(s.costCents).toBeGreaterThanOrEqual(fair);
      }
    }
  });
});
